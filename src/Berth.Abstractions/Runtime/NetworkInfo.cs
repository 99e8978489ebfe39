namespace Berth.Runtime;

/// <summary>A network as stored on the engine.</summary>
public sealed record NetworkInfo(string Id, string Name, bool Internal, IReadOnlyDictionary<string, string> Labels);
