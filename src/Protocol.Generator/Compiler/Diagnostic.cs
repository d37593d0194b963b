using System;
using System.Collections.Generic;

namespace VirtNetworkd.Protocol.Generator.Compiler
{
    /// <summary>A place in a .x file (1-based line and column).</summary>
    public readonly struct SourceLocation
    {
        public SourceLocation(string file, int line, int column)
        {
            File = file;
            Line = line;
            Column = column;
        }

        public string File { get; }
        public int Line { get; }
        public int Column { get; }

        public override string ToString() => File + ":" + Line + ":" + Column;
    }

    /// <summary>A compiler error with a stable id (XDR0xxx) and its .x location.</summary>
    public sealed class XdrDiagnostic
    {
        public XdrDiagnostic(string id, string message, SourceLocation location)
        {
            Id = id;
            Message = message;
            Location = location;
        }

        public string Id { get; }
        public string Message { get; }
        public SourceLocation Location { get; }

        /// <summary>gcc style: <c>file:line:col: error XDR0001: message</c>.</summary>
        public override string ToString() => Location + ": error " + Id + ": " + Message;
    }

    /// <summary>The diagnostic ids; stable so tests and tooling can refer to them.</summary>
    public static class DiagnosticIds
    {
        public const string UnexpectedCharacter = "XDR0001";
        public const string UnterminatedComment = "XDR0002";
        public const string BadNumber = "XDR0003";
        public const string Syntax = "XDR0101";
        public const string Unsupported = "XDR0102";
        public const string Duplicate = "XDR0201";
        public const string UndefinedName = "XDR0202";
        public const string NotAConstant = "XDR0203";
        public const string NotAType = "XDR0204";
        public const string BadBound = "XDR0205";
        public const string BadDiscriminant = "XDR0206";
        public const string DuplicateCase = "XDR0207";
        public const string RecursiveType = "XDR0208";
        public const string CircularConstant = "XDR0209";
        public const string NameClash = "XDR0210";
        public const string BadProgram = "XDR0211";
    }

    /// <summary>Thrown inside a stage to abandon the current definition; already recorded.</summary>
    internal sealed class XdrCompileAbort : Exception
    {
    }

    internal sealed class DiagnosticBag
    {
        public readonly List<XdrDiagnostic> Items = new List<XdrDiagnostic>();

        public void Add(string id, string message, SourceLocation at) => Items.Add(new XdrDiagnostic(id, message, at));
    }
}
