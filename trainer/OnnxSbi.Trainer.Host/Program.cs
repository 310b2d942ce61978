using System.Globalization;
using OnnxSbi.Trainer.Host;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
// The parser's own messages in English, like every message of ours, whatever the machine's language.
CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;

return await TrainerCli.RunAsync(args);
