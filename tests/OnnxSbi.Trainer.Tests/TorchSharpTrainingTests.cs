using TorchSharp;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Tests;

[Collection("TorchSharp")]
public class TorchSharpTrainingTests
{
    [Fact]
    public void SmallModule_ForwardBackwardStep_ReducesLoss()
    {
        // Proves the native library loads with the build's GLIBCXX fix and that autograd and an optimizer work.
        using var g = new Generator(7);
        using var model = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 1));
        using var x = randn([256, 3], generator: g);
        using var y = x.sum(1, keepdim: true);
        using var opt = optim.Adam(model.parameters(), lr: 1e-2);
        double first = 0, last = 0;
        for (int i = 0; i < 100; i++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            var loss = nn.functional.mse_loss(model.forward(x), y);
            loss.backward();
            opt.step();
            if (i == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        // A linear target is learnable: 100 Adam steps cut the loss by far more than 10x.
        Assert.True(last < first / 10, $"loss {first} -> {last}");
    }
}
