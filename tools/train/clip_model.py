"""A CLIP ViT in OpenAI's layout (clip/model.py), written for this project.

Parameter names match OpenAI's state dict exactly (visual.conv1.weight, visual.class_embedding,
..., transformer.resblocks.N.attn.in_proj_weight, ..., text_projection, logit_scale), so
`cmd/convert` and OpenAI's `build_model` infer the same hyper-parameters from shapes:
heads = width // 64, layers = number of resblocks, patch = conv1 kernel, resolution =
patch * sqrt(positional_embedding rows - 1), context = positional_embedding rows.
"""

import math
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

# OpenAI CLIP's image normalisation; the runtime uses the same for OpenAI-layout checkpoints.
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)


class LayerNorm(nn.LayerNorm):
    """LayerNorm computed in float32 (eps 1e-5)."""

    def forward(self, x):
        return super().forward(x.float()).type(x.dtype)


class QuickGELU(nn.Module):
    """x * sigmoid(1.702 x), OpenAI CLIP's activation."""

    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    """Pre-LN block: x += attn(ln_1(x)); x += mlp(ln_2(x))."""

    def __init__(self, width, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(width, width * 4)),
            ("gelu", QuickGELU()),
            ("c_proj", nn.Linear(width * 4, width)),
        ]))
        self.ln_2 = LayerNorm(width)

    def forward(self, x, mask=None):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    """A stack of residual attention blocks over [L, N, D] input."""

    def __init__(self, width, layers, heads):
        super().__init__()
        self.width = width
        self.layers = layers
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads) for _ in range(layers)])

    def forward(self, x, mask=None):
        for block in self.resblocks:
            x = block(x, mask)
        return x


class VisionTransformer(nn.Module):
    """conv1 patches -> [class] + patches -> +pos -> ln_pre -> blocks -> ln_post(class) @ proj."""

    def __init__(self, resolution, patch, width, layers, heads, embed_dim):
        super().__init__()
        self.input_resolution = resolution
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        scale = width ** -0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn((resolution // patch) ** 2 + 1, width))
        self.ln_pre = LayerNorm(width)
        self.transformer = Transformer(width, layers, heads)
        self.ln_post = LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, embed_dim))

    def forward(self, x):
        x = self.conv1(x)  # [N, width, grid, grid]
        x = x.flatten(2).permute(0, 2, 1)  # [N, grid*grid, width], patches row-major
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x)
        x = self.transformer(x.permute(1, 0, 2)).permute(1, 0, 2)
        return self.ln_post(x[:, 0, :]) @ self.proj


class CLIP(nn.Module):
    """OpenAI-layout CLIP with a ViT image tower and a causal text transformer."""

    def __init__(self, embed_dim=128, image_resolution=64, vision_layers=4, vision_width=128,
                 vision_patch_size=8, context_length=77, vocab_size=49408, transformer_width=128,
                 transformer_layers=4):
        super().__init__()
        assert vision_width % 64 == 0 and transformer_width % 64 == 0, "widths must be multiples of 64"
        self.context_length = context_length
        self.visual = VisionTransformer(image_resolution, vision_patch_size, vision_width,
                                        vision_layers, vision_width // 64, embed_dim)
        self.transformer = Transformer(transformer_width, transformer_layers, transformer_width // 64)
        self.token_embedding = nn.Embedding(vocab_size, transformer_width)
        self.positional_embedding = nn.Parameter(torch.empty(context_length, transformer_width))
        self.ln_final = LayerNorm(transformer_width)
        self.text_projection = nn.Parameter(torch.empty(transformer_width, embed_dim))
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))
        self._init()

    def _init(self):
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        for tower in (self.transformer, self.visual.transformer):
            proj_std = tower.width ** -0.5 * (2 * tower.layers) ** -0.5
            for block in tower.resblocks:
                nn.init.normal_(block.attn.in_proj_weight, std=tower.width ** -0.5)
                nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
                nn.init.normal_(block.mlp.c_fc.weight, std=(2 * tower.width) ** -0.5)
                nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)
        nn.init.normal_(self.text_projection, std=self.transformer.width ** -0.5)

    @staticmethod
    def causal_mask(n, device=None):
        """Additive mask: -inf above the diagonal."""
        return torch.full((n, n), float("-inf"), device=device).triu_(1)

    def encode_image(self, image):
        return self.visual(image)

    def encode_text(self, text):
        """text: [N, L] token ids with L <= context_length.

        Because the mask is causal, the EOT row depends only on the tokens before it, so a
        batch may be cut to its longest sequence: the result equals the full-77 run.
        """
        n = text.shape[1]
        x = self.token_embedding(text) + self.positional_embedding[:n]
        x = self.transformer(x.permute(1, 0, 2), self.causal_mask(n, x.device)).permute(1, 0, 2)
        x = self.ln_final(x)
        return x[torch.arange(x.shape[0]), text.argmax(dim=-1)] @ self.text_projection

    def forward(self, image, text):
        img = F.normalize(self.encode_image(image), dim=-1)
        txt = F.normalize(self.encode_text(text), dim=-1)
        return img, txt


def clip_loss(logits):
    """The lecture's symmetric InfoNCE (11_contrastive_loss.py): logits[i, j] = scale * sim(text_i, image_j)."""
    labels = torch.arange(logits.shape[0], device=logits.device)
    loss_t2i = F.cross_entropy(logits, labels)
    loss_i2t = F.cross_entropy(logits.T, labels)
    return (loss_t2i + loss_i2t) / 2


def build_from_state_dict(sd):
    """Infers hyper-parameters from shapes as OpenAI's build_model does, and loads sd."""
    vw = sd["visual.conv1.weight"].shape[0]
    vl = len([k for k in sd if k.startswith("visual.") and k.endswith(".attn.in_proj_weight")])
    patch = sd["visual.conv1.weight"].shape[-1]
    grid = round((sd["visual.positional_embedding"].shape[0] - 1) ** 0.5)
    tl = len({k.split(".")[2] for k in sd if k.startswith("transformer.resblocks")})
    model = CLIP(embed_dim=sd["text_projection"].shape[1], image_resolution=patch * grid,
                 vision_layers=vl, vision_width=vw, vision_patch_size=patch,
                 context_length=sd["positional_embedding"].shape[0],
                 vocab_size=sd["token_embedding.weight"].shape[0],
                 transformer_width=sd["ln_final.weight"].shape[0], transformer_layers=tl)
    model.load_state_dict(sd)
    return model.eval()
