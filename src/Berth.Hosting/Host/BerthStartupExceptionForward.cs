using System.Runtime.CompilerServices;

// BerthStartupException moved to Berth.Abstractions (the cluster's hop listener throws it too); code built against
// Berth.Hosting still finds it.
[assembly: TypeForwardedTo(typeof(Berth.Hosting.BerthStartupException))]
