using OnnxSbi.Trainer.Host;

ProgramCulture.UseInvariant();

return await TrainerCli.RunAsync(args);
