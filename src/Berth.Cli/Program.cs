using Berth.Cli;

return await BerthCli.RunAsync(args, Console.Out, Console.Error);
