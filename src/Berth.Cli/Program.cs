using Berth.Cli;

await using var stdout = Console.OpenStandardOutput();
await using var stderr = Console.OpenStandardError();
await using var stdin = Console.OpenStandardInput();
return await BerthCli.RunAsync(args, Console.Out, Console.Error, stdout, stderr, CliEnvironment.Process(stdin));
