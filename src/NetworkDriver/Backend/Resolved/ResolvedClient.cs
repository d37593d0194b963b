using Tmds.DBus.Protocol;

namespace VirtNetworkd.NetworkDriver.Backend.Resolved;

/// <summary>A call to systemd-resolved that failed, or a system bus that did not answer in time.</summary>
public sealed class ResolvedException(string message) : Exception(message);

/// <summary>
/// Registers a network's name server with systemd-resolved over the system D-Bus, as libvirt's
/// virSystemdResolvedRegisterNameServer: on org.freedesktop.resolve1.Manager, SetLinkDomains
/// (ifindex, [(domain, routing-only)]) then SetLinkDNS (ifindex, [(family, address bytes)]).
/// Nothing is taken back at destroy: resolved drops a link's settings when the link goes.
/// <para>
/// Whether resolved is there is decided as libvirt's virSystemdHasResolved decides it: the name
/// must be activatable on the bus, and either owned by someone or startable by a running systemd.
/// When it is not, or when there is no system bus at all, <see cref="Register"/> says why and
/// registers nothing (libvirt then fails the start; see <c>LinuxBackend</c>). A bus that does not
/// answer fails after <see cref="Timeout"/> (libvirt waits 30 s per call); a missing socket fails
/// at once.
/// </para>
/// </summary>
public sealed class ResolvedClient(string busAddress, TimeSpan timeout)
{
    /// <summary>Where the system bus is when DBUS_SYSTEM_BUS_ADDRESS does not say (as sd-bus and GDBus).</summary>
    public const string DefaultSystemBusAddress = "unix:path=/run/dbus/system_bus_socket";
    public const string SystemBusAddressVariable = "DBUS_SYSTEM_BUS_ADDRESS";
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    private const string Service = "org.freedesktop.resolve1";
    private const string ObjectPath = "/org/freedesktop/resolve1";
    private const string Interface = "org.freedesktop.resolve1.Manager";
    private const string Systemd = "org.freedesktop.systemd1";

    /// <summary>The system bus of an environment's DBUS_SYSTEM_BUS_ADDRESS (<paramref name="fromEnvironment"/>), or the default.</summary>
    public static string SystemBusAddress(string? fromEnvironment) =>
        string.IsNullOrEmpty(fromEnvironment) ? DefaultSystemBusAddress : fromEnvironment;

    public string BusAddress { get; } = busAddress;
    public TimeSpan Timeout { get; } = timeout;

    /// <summary>
    /// Registers <paramref name="server"/> for the link <paramref name="ifindex"/>. Returns null
    /// when it did, or why resolved is not available; throws <see cref="ResolvedException"/>
    /// when a call failed or the bus did not answer in time.
    /// </summary>
    public string? Register(int ifindex, ResolvedNameServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var connection = new DBusConnection(BusAddress);
        var work = RegisterAsync(connection, ifindex, server);
        try
        {
            return work.WaitAsync(Timeout).GetAwaiter().GetResult();
        }
        catch (TimeoutException)
        {
            throw new ResolvedException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"the system bus at {BusAddress} did not answer within {Timeout.TotalSeconds:0.#} s"));
        }
        finally
        {
            connection.Dispose(); // ends what is still waiting; its failure is of no interest then
            if (!work.IsCompleted) work.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        }
    }

    private async Task<string?> RegisterAsync(DBusConnection connection, int ifindex, ResolvedNameServer server)
    {
        try
        {
            await connection.ConnectAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // whatever keeps us off the bus means the same: no system bus
        catch (Exception e)
#pragma warning restore CA1031
        {
            return $"no system bus at {BusAddress} ({WhyNotConnected(e)})";
        }
        try
        {
            if (!(await connection.ListActivatableServicesAsync().ConfigureAwait(false)).Contains(Service))
                return $"{Service} is not activatable on the system bus";
            string[] running = await connection.ListServicesAsync().ConfigureAwait(false);
            if (!running.Contains(Service) && !running.Contains(Systemd))
                return $"{Service} is not running and there is no systemd to start it";
            await CallAsync(connection, SetLinkDomains(connection, ifindex, server.Domain)).ConfigureAwait(false);
            await CallAsync(connection, SetLinkDns(connection, ifindex, server)).ConfigureAwait(false);
            return null;
        }
        catch (DBusErrorReplyException e)
        {
            throw new ResolvedException($"{e.ErrorName}: {e.ErrorMessage}");
        }
#pragma warning disable CA1031 // a bus that goes away mid-call is a failed call too
        catch (Exception e) when (e is not ResolvedException)
#pragma warning restore CA1031
        {
            throw new ResolvedException($"the system bus at {BusAddress} failed: {e.Message}");
        }
    }

    /// <summary>.NET reports a unix socket path that does not exist as "Cannot assign requested address".</summary>
    private string WhyNotConnected(Exception e) =>
        BusAddress.StartsWith("unix:path=", StringComparison.Ordinal) && BusAddress.IndexOfAny([',', ';']) < 0 && !File.Exists(BusAddress["unix:path=".Length..])
            ? "No such file or directory"
            : e.Message;

    private static Task CallAsync(DBusConnection connection, MessageBuffer message) => connection.CallMethodAsync(message);

    /// <summary>SetLinkDomains(in i ifindex, in a(sb) domains): the domain, routing only (resolvectl shows "~domain").</summary>
    private static MessageBuffer SetLinkDomains(DBusConnection connection, int ifindex, string domain)
    {
        using var writer = connection.GetMessageWriter();
        writer.WriteMethodCallHeader(Service, ObjectPath, Interface, "SetLinkDomains", "ia(sb)");
        writer.WriteInt32(ifindex);
        var array = writer.WriteArrayStart(DBusType.Struct);
        writer.WriteStructureStart();
        writer.WriteString(domain);
        writer.WriteBool(true);
        writer.WriteArrayEnd(array);
        return writer.CreateMessage();
    }

    /// <summary>SetLinkDNS(in i ifindex, in a(iay) addresses): the one address, with its family.</summary>
    private static MessageBuffer SetLinkDns(DBusConnection connection, int ifindex, ResolvedNameServer server)
    {
        using var writer = connection.GetMessageWriter();
        writer.WriteMethodCallHeader(Service, ObjectPath, Interface, "SetLinkDNS", "ia(iay)");
        writer.WriteInt32(ifindex);
        var array = writer.WriteArrayStart(DBusType.Struct);
        writer.WriteStructureStart();
        writer.WriteInt32(server.Family);
        writer.WriteArray(server.Address.GetAddressBytes());
        writer.WriteArrayEnd(array);
        return writer.CreateMessage();
    }
}
