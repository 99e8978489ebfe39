using System.Globalization;
using System.Reflection;
using Berth.Objects;
using Berth.Storage;

namespace Berth.Containers;

/// <summary>Schedules: calls to methods of the class later or repeatedly, kept in storage and driven by the object's alarm.</summary>
public abstract partial class Container
{
    private const string SchedulePrefix = "_berth/schedule/";

    /// <summary>
    /// Calls <paramref name="method"/> (a method of this class taking an optional <see cref="string"/> payload
    /// and an optional <see cref="CancellationToken"/>) at <paramref name="when"/>, on top of the object's alarm.
    /// Returns the schedule's ID.
    /// </summary>
    protected string Schedule(DateTimeOffset when, string method, string? payload = null) =>
        AddSchedule(when, method, payload, every: null);

    /// <summary>Calls <paramref name="method"/> every <paramref name="interval"/>, first after one interval. Returns the schedule's ID.</summary>
    protected string ScheduleEvery(TimeSpan interval, string method, string? payload = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        return AddSchedule(_time.GetUtcNow() + interval, method, payload, interval);
    }

    /// <summary>Cancels a schedule made with <see cref="Schedule"/> or <see cref="ScheduleEvery"/>.</summary>
    protected bool CancelSchedule(string scheduleId)
    {
        var removed = false;
        foreach (var (key, _) in Context.Storage.List<ScheduledCall>(new ListOptions { Prefix = SchedulePrefix }))
        {
            if (key.EndsWith(scheduleId, StringComparison.Ordinal))
            {
                removed |= Context.Storage.Delete(key);
            }
        }

        ArmAlarmForSchedules();
        return removed;
    }

    /// <inheritdoc />
    protected override async Task AlarmAsync(AlarmInvocation invocation, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        foreach (var (key, call) in Context.Storage.List<ScheduledCall>(new ListOptions { Prefix = SchedulePrefix }))
        {
            if (call is null || call.Due > now)
            {
                break;
            }

            Context.Storage.Delete(key);
            if (call.EveryMilliseconds is { } every)
            {
                var next = call with { Due = DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds() + every) };
                Context.Storage.Put(ScheduleKey(next.Due, call.Id), next);
            }

            await InvokeScheduledAsync(call, cancellationToken);
        }

        ArmAlarmForSchedules();
    }

    private string AddSchedule(DateTimeOffset when, string method, string? payload, TimeSpan? every)
    {
        if (FindScheduledMethod(method) is null)
        {
            throw new ArgumentException($"{GetType().Name} has no method '{method}' taking (string? payload, CancellationToken) or fewer parameters and returning Task.", nameof(method));
        }

        // Alarms keep whole milliseconds; so do schedules, so the two compare equal.
        when = DateTimeOffset.FromUnixTimeMilliseconds(when.ToUnixTimeMilliseconds());
        var id = Guid.NewGuid().ToString("N");
        var call = new ScheduledCall(id, when, method, payload, every is { } e ? (long)e.TotalMilliseconds : null);
        Context.Storage.Put(ScheduleKey(when, id), call);
        ArmAlarmForSchedules();
        return id;
    }

    private void ArmAlarmForSchedules()
    {
        var next = Context.Storage.List<ScheduledCall>(new ListOptions { Prefix = SchedulePrefix, Limit = 1 });
        if (next.Count == 0)
        {
            Context.DeleteAlarm();
        }
        else if (next.GetAt(0).Value is { } first && Context.GetAlarm() != first.Due)
        {
            Context.SetAlarm(first.Due);
        }
    }

    private async Task InvokeScheduledAsync(ScheduledCall call, CancellationToken cancellationToken)
    {
        var method = FindScheduledMethod(call.Method);
        if (method is null)
        {
            Log.ScheduledMethodMissing(_logger, ClassName, call.Method);
            return;
        }

        var parameters = method.GetParameters();
        var arguments = new object?[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            arguments[i] = parameters[i].ParameterType == typeof(CancellationToken) ? cancellationToken : call.Payload;
        }

        if (method.Invoke(this, arguments) is Task task)
        {
            await task;
        }
    }

    private MethodInfo? FindScheduledMethod(string name) =>
        GetType().GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .FirstOrDefault(m => m.Name == name && typeof(Task).IsAssignableFrom(m.ReturnType) &&
                m.GetParameters().All(p => p.ParameterType == typeof(string) || p.ParameterType == typeof(CancellationToken)));

    private static string ScheduleKey(DateTimeOffset due, string id) =>
        string.Create(CultureInfo.InvariantCulture, $"{SchedulePrefix}{due.UtcTicks:D20}/{id}");

    private sealed record ScheduledCall(string Id, DateTimeOffset Due, string Method, string? Payload, long? EveryMilliseconds);
}
