using TorchSharp;
using static TorchSharp.torch;
var lin = nn.Linear(3, 2);
var x = randn(4, 3);
var loss = lin.forward(x).pow(2).mean();
loss.backward();
Console.WriteLine($"ok {loss.item<float>()}");
return 0;
