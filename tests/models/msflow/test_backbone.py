"""Our ResNet layers 1–3 carry torchvision's names and sizes and load a local state dict strictly."""

import pytest
import torch

from mstad.errors import ConfigError
from mstad.models.msflow.backbone import ResNetFeatures, load_backbone_weights


def test_resnet18_sizes_and_names_match_torchvision():
    model = ResNetFeatures("resnet18")
    # torchvision resnet18: 11,689,512 parameters = ours + layer4 (8,393,728) + fc (513,000)
    assert sum(p.numel() for p in model.parameters()) == 11_689_512 - 8_393_728 - 513_000
    keys = model.state_dict().keys()
    for name in (
        "conv1.weight",
        "bn1.running_var",
        "layer1.1.conv2.weight",
        "layer2.0.downsample.0.weight",
        "layer3.0.downsample.1.num_batches_tracked",
    ):
        assert name in keys
    features = model(torch.zeros(2, 3, 64, 64))
    assert [tuple(f.shape[1:]) for f in features] == [(64, 16, 16), (128, 8, 8), (256, 4, 4)]


def test_wide_resnet50_2_layers_match_torchvision_shapes():
    state = ResNetFeatures("wide_resnet50_2").state_dict()
    assert state["layer1.0.conv1.weight"].shape == (128, 64, 1, 1)  # width_per_group 128
    assert state["layer1.0.conv2.weight"].shape == (128, 128, 3, 3)
    assert state["layer3.5.conv3.weight"].shape == (1024, 512, 1, 1)
    assert "layer3.5.bn3.weight" in state and "layer3.6.conv1.weight" not in state


def test_loads_a_torchvision_style_file_strictly(tmp_path):
    source = ResNetFeatures("resnet18")
    with torch.no_grad():
        for p in source.parameters():
            p.normal_()
    state = dict(source.state_dict())
    state["layer4.0.conv1.weight"] = torch.zeros(512, 256, 3, 3)  # layers we do not build
    state["fc.weight"], state["fc.bias"] = torch.zeros(1000, 512), torch.zeros(1000)
    torch.save(state, tmp_path / "resnet18.pth")
    target = ResNetFeatures("resnet18")
    assert load_backbone_weights(target, tmp_path / "resnet18.pth") == 3
    x = torch.randn(1, 3, 32, 32)
    source.eval(), target.eval()
    for a, b in zip(source(x), target(x), strict=True):
        torch.testing.assert_close(a, b)


def test_a_mismatching_file_is_one_clear_error(tmp_path):
    state = ResNetFeatures("resnet18").state_dict()
    del state["layer2.0.conv1.weight"]
    torch.save(state, tmp_path / "broken.pth")
    with pytest.raises(ConfigError, match="1 missing and 0 unexpected keys for resnet18"):
        load_backbone_weights(ResNetFeatures("resnet18"), tmp_path / "broken.pth")
    torch.save(ResNetFeatures("wide_resnet50_2").state_dict(), tmp_path / "wide.pth")
    with pytest.raises(ConfigError, match="is it a resnet18 state dict"):
        load_backbone_weights(ResNetFeatures("resnet18"), tmp_path / "wide.pth")
    with pytest.raises(ConfigError, match="backbone weights not found"):
        load_backbone_weights(ResNetFeatures("resnet18"), tmp_path / "nope.pth")
    (tmp_path / "junk.pth").write_text("not torch")
    with pytest.raises(ConfigError, match="not a torch state dict"):
        load_backbone_weights(ResNetFeatures("resnet18"), tmp_path / "junk.pth")
