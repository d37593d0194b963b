using VirtNetworkd.Server.Host.Config;

namespace VirtNetworkd.Server.Tests.Host;

public class ConfParserTests
{
    private const string File = "/etc/libvirt/test.conf";

    private static ConfFile Parse(string text) => LibvirtConfParser.Parse(text, File);

    private static ConfException SyntaxError(string text) =>
        Assert.Throws<ConfException>(() => Parse(text))!;

    [Test]
    public void EmptyTextHasNoEntries() => Assert.That(Parse("").Entries, Is.Empty);

    [Test]
    public void ValuesOfEveryKind()
    {
        var c = Parse("""
            # a comment
            a = "double"
            b = 'single'
            c = 42
            d = -7
            e = +3
            f = [ "x", "y" ]
            g=[]

            h = ""
            """);
        Assert.That(c.Entries.Select(e => e.Name), Is.EqualTo(new[] { "a", "b", "c", "d", "e", "f", "g", "h" }));
        Assert.Multiple(() =>
        {
            Assert.That(c.Find("a")!.Value.Text, Is.EqualTo("double"));
            Assert.That(c.Find("b")!.Value.Text, Is.EqualTo("single"));
            Assert.That(c.Find("c")!.Value.Kind, Is.EqualTo(ConfValueKind.UnsignedInteger));
            Assert.That(c.Find("c")!.Value.Number, Is.EqualTo(42));
            Assert.That(c.Find("d")!.Value.Kind, Is.EqualTo(ConfValueKind.SignedInteger));
            Assert.That(c.Find("d")!.Value.Number, Is.EqualTo(-7));
            Assert.That(c.Find("e")!.Value.Kind, Is.EqualTo(ConfValueKind.UnsignedInteger));
            Assert.That(c.Find("e")!.Value.Number, Is.EqualTo(3));
            Assert.That(c.Find("f")!.Value.Items.Select(i => i.Text), Is.EqualTo(new[] { "x", "y" }));
            Assert.That(c.Find("g")!.Value.Kind, Is.EqualTo(ConfValueKind.List));
            Assert.That(c.Find("g")!.Value.Items, Is.Empty);
            Assert.That(c.Find("h")!.Value.Text, Is.EqualTo(""));
        });
    }

    [Test]
    public void EntriesRememberTheirLine()
    {
        var c = Parse("\n# x\na = 1\n\nb = [\n \"p\",\n]\nc = 2\n");
        Assert.That(c.Entries.Select(e => e.Line), Is.EqualTo(new[] { 3, 5, 8 }));
    }

    [Test]
    public void ListsSpanLinesAndAllowATrailingComma()
    {
        var c = Parse("access_drivers = [\n  \"polkit\",\n  \"nop\",   \n]\nx = 1\n");
        var list = c.Find("access_drivers")!.Value.Items;
        Assert.That(list.Select(i => i.Text), Is.EqualTo(new[] { "polkit", "nop" }));
        Assert.That(c.Find("x")!.Line, Is.EqualTo(5));
    }

    [Test]
    public void ListsMayHoldNumbersAndLists()
    {
        var v = Parse("l = [ 1, -2, [ 'a' ] ]").Find("l")!.Value;
        Assert.That(v.Items.Select(i => i.Kind), Is.EqualTo(new[] { ConfValueKind.UnsignedInteger, ConfValueKind.SignedInteger, ConfValueKind.List }));
    }

    [Test]
    public void CommentsAfterValuesAndSemicolons()
    {
        var c = Parse("a = 1 # one\nb = \"x#y\"; c = 3;\n   d = 'q'   # tail");
        Assert.Multiple(() =>
        {
            Assert.That(c.Find("a")!.Value.Number, Is.EqualTo(1));
            Assert.That(c.Find("b")!.Value.Text, Is.EqualTo("x#y"));
            Assert.That(c.Find("c")!.Value.Number, Is.EqualTo(3));
            Assert.That(c.Find("d")!.Value.Text, Is.EqualTo("q"));
        });
    }

    [Test]
    public void QuotesOfTheOtherKindInsideStrings()
    {
        var c = Parse("a = \"it's\"\nb = 'say \"hi\"'");
        Assert.That(c.Find("a")!.Value.Text, Is.EqualTo("it's"));
        Assert.That(c.Find("b")!.Value.Text, Is.EqualTo("say \"hi\""));
    }

    [Test]
    public void TripleQuotedStringsSpanLines()
    {
        var c = Parse("a = \"\"\"one\ntwo\"\"\"\nb = 1\n");
        Assert.That(c.Find("a")!.Value.Text, Is.EqualTo("one\ntwo"));
        Assert.That(c.Find("b")!.Line, Is.EqualTo(3));
    }

    [Test]
    public void NamesMayHoldDigitsAndUnderscores() =>
        Assert.That(Parse("max_client_requests2 = 1").Entries[0].Name, Is.EqualTo("max_client_requests2"));

    [Test]
    public void WindowsLineEndingsAreAccepted()
    {
        var c = Parse("a = 1\r\nb = 'x'\r\n");
        Assert.That(c.Find("b")!.Value.Text, Is.EqualTo("x"));
        Assert.That(c.Find("b")!.Line, Is.EqualTo(2));
    }

    [Test]
    public void FirstOccurrenceWins() => Assert.That(Parse("a = 1\na = 2").Find("a")!.Value.Number, Is.EqualTo(1));

    [TestCase("log_level = \n", 1, "expecting a value")]
    [TestCase("\n\nlog_level = \n", 3, "expecting a value")]
    [TestCase("log_level\n", 1, "expecting an assignment")]
    [TestCase("a = 1 b = 2\n", 1, "expecting a separator")]
    [TestCase("a = 5abc\n", 1, "expecting a separator")]
    [TestCase("a = 1\n2b = 3\n", 2, "expecting a name")]
    [TestCase("a = 1\n_b = 3\n", 2, "expecting a name")]
    [TestCase("\n", 2, "expecting a name")] // libvirt rejects a file of blank lines only
    [TestCase("a = \"open\n", 1, "unterminated string")]
    [TestCase("a = 'open", 1, "unterminated string")]
    [TestCase("a = \"\"\"never closed\nstill\n", 2, "unterminated string")] // libvirt stops counting 2 chars early
    [TestCase("a = -\n", 1, "unterminated number")]
    [TestCase("a = +x\n", 1, "unterminated number")]
    [TestCase("a = [ 1 2 ]\n", 1, "expecting a separator in list")]
    [TestCase("a = [ \"x\",\n \"y\"\n", 3, "list is not closed with ]")]
    [TestCase("a = [ , ]", 1, "expecting a value")]
    [TestCase("a = yes\n", 1, "expecting a value")]
    [TestCase("a == 1\n", 1, "expecting a value")]
    public void SyntaxErrorsNameFileAndLine(string text, int line, string what)
    {
        var e = SyntaxError(text);
        Assert.Multiple(() =>
        {
            Assert.That(e.Message, Is.EqualTo($"configuration file syntax error: {File}:{line}: {what}"));
            Assert.That(e.FileName, Is.EqualTo(File));
            Assert.That(e.Line, Is.EqualTo(line));
        });
    }

    [Test]
    public void ReadFileReportsAMissingFileAsLibvirt()
    {
        var e = Assert.Throws<ConfException>(() => LibvirtConfParser.ReadFile("/nonexistent/dir/x.conf"))!;
        Assert.That(e.Message, Is.EqualTo("Failed to open file '/nonexistent/dir/x.conf': No such file or directory"));
    }

    [Test]
    public void ReadFileReportsADirectoryAsLibvirt()
    {
        string dir = TestEnv.TempDir();
        try
        {
            var e = Assert.Throws<ConfException>(() => LibvirtConfParser.ReadFile(dir))!;
            Assert.That(e.Message, Is.EqualTo($"Failed to read file '{dir}': Is a directory"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void ReadFileParsesAFileAndNamesItInErrors()
    {
        string dir = TestEnv.TempDir();
        try
        {
            string good = Path.Combine(dir, "good.conf");
            System.IO.File.WriteAllText(good, "a = 'x'\n");
            Assert.That(LibvirtConfParser.ReadFile(good).Find("a")!.Value.Text, Is.EqualTo("x"));

            string bad = Path.Combine(dir, "bad.conf");
            System.IO.File.WriteAllText(bad, "# ok\n\nb = [ 'x'\n");
            var e = Assert.Throws<ConfException>(() => LibvirtConfParser.ReadFile(bad))!;
            Assert.That(e.Message, Is.EqualTo($"configuration file syntax error: {bad}:4: list is not closed with ]"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void TypedGettersCheckTypesAndRanges()
    {
        var c = Parse("""
            s = "text"
            n = 7
            neg = -3
            big = 4294967296
            hugeneg = -2147483649
            flag = 1
            two = 2
            l = [ "a", "b" ]
            mixed = [ "a", 1 ]
            """);
        Assert.Multiple(() =>
        {
            Assert.That(c.TryGetString("s", out var s) && s == "text", Is.True);
            Assert.That(c.TryGetString("missing", out _), Is.False);
            Assert.That(c.TryGetUInt("n", out var u) && u == 7, Is.True);
            Assert.That(c.TryGetInt("n", out var i) && i == 7, Is.True);
            Assert.That(c.TryGetInt("neg", out i) && i == -3, Is.True);
            Assert.That(c.TryGetBool("flag", out var b) && b, Is.True);
            Assert.That(c.TryGetStringList("l", out var l) && l.SequenceEqual(["a", "b"]), Is.True);
        });

        void Fails(Action a, string message) =>
            Assert.That(Assert.Throws<ConfException>(() => a())!.Message, Is.EqualTo(message));

        Fails(() => c.TryGetString("n", out _), $"internal error: {File}:2: expected a string for 'n' parameter");
        Fails(() => c.TryGetUInt("s", out _), $"internal error: {File}:1: expected an unsigned integer for 's' parameter");
        Fails(() => c.TryGetUInt("neg", out _), $"internal error: {File}:3: expected an unsigned integer for 'neg' parameter");
        Fails(() => c.TryGetUInt("big", out _), $"internal error: {File}:4: value for 'big' parameter must be in range 0:4294967295");
        Fails(() => c.TryGetInt("s", out _), $"internal error: {File}:1: expected a signed integer for 's' parameter");
        Fails(() => c.TryGetInt("hugeneg", out _), $"internal error: {File}:5: value for 'hugeneg' parameter must be in range -2147483648:2147483647");
        Fails(() => c.TryGetBool("s", out _), $"internal error: {File}:1: expected a bool for 's' parameter");
        Fails(() => c.TryGetBool("neg", out _), $"internal error: {File}:3: expected a bool for 'neg' parameter");
        Fails(() => c.TryGetBool("two", out _), $"internal error: {File}:7: value for 'two' parameter must be 0 or 1");
        Fails(() => c.TryGetStringList("s", out _), $"internal error: {File}:1: expected a string list for 's' parameter");
        Fails(() => c.TryGetStringList("mixed", out _), $"configuration file syntax error: {File}:9: expected a string list for 'mixed' parameter");
    }
}
