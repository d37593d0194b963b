using System.Text;

namespace VirtNetworkd.Protocol.Generator.Compiler
{
    /// <summary>Indentation-aware text builder for the emitted C#.</summary>
    internal sealed class SourceWriter
    {
        private readonly StringBuilder _sb = new StringBuilder();
        private int _indent;

        public SourceWriter Line(string text = "")
        {
            if (text.Length > 0) _sb.Append(' ', _indent * 4).Append(text);
            _sb.Append('\n');
            return this;
        }

        public SourceWriter Open(string text)
        {
            if (text.Length > 0) Line(text);
            Line("{");
            _indent++;
            return this;
        }

        public SourceWriter Close(string suffix = "")
        {
            _indent--;
            Line("}" + suffix);
            return this;
        }

        public void Indent() => _indent++;
        public void Outdent() => _indent--;

        public override string ToString() => _sb.ToString();
    }
}
