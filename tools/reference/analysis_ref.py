#!/usr/bin/python3
"""Reference values for package analysis, computed by the lecture's own code.

The functions cosine_similarity_matrix, clip_loss (11_contrastive_loss.py),
compute_modality_gap, analyze_intra_inter_similarity (11_modality_gap.py),
feda_transform and batch_feda_transform (11_feda.py) are the lecture's
code blocks, unchanged. The lecture defines no recall@k and no probe trainer;
recall_at_k and train_probe below state the semantics package analysis
implements (rank = number of others scoring strictly higher; full-batch
gradient descent from zero in float64).

Writes analysis/testdata/*.npy (float32 inputs) and *.json (expected
values). Run from the repository root:

    /usr/bin/python3 tools/reference/analysis_ref.py
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join("analysis", "testdata")


# ---- 11_contrastive_loss.py (seed, unchanged) ------------------------------

def cosine_similarity_matrix(text_emb, image_emb):
    """テキストと画像の埋め込み間のコサイン類似度行列を計算

    Args:
        text_emb: テキスト埋め込み [batch_size, dim]
        image_emb: 画像埋め込み [batch_size, dim]

    Returns:
        類似度行列 [batch_size, batch_size]
    """
    # L2正規化
    text_emb = F.normalize(text_emb, dim=-1)
    image_emb = F.normalize(image_emb, dim=-1)

    # コサイン類似度行列（正規化後は内積＝コサイン類似度）
    return text_emb @ image_emb.T


def clip_loss(text_emb, image_emb, temperature=0.07):
    """CLIP形式の対照学習損失

    Args:
        text_emb: テキスト埋め込み [batch_size, dim]
        image_emb: 画像埋め込み [batch_size, dim]
        temperature: 温度パラメータ

    Returns:
        損失値（スカラー）
    """
    # 類似度行列
    logits = cosine_similarity_matrix(text_emb, image_emb) / temperature

    # ラベル（対角成分が正例）
    batch_size = text_emb.size(0)
    labels = torch.arange(batch_size, device=text_emb.device)

    # 対称な損失（text→image と image→text の両方向）
    loss_t2i = F.cross_entropy(logits, labels)
    loss_i2t = F.cross_entropy(logits.T, labels)

    return (loss_t2i + loss_i2t) / 2


# ---- 11_modality_gap.py (seed, unchanged) ----------------------------------

def compute_modality_gap(text_emb, image_emb):
    """モダリティギャップを計算

    Args:
        text_emb: テキスト埋め込み [n_samples, dim]
        image_emb: 画像埋め込み [n_samples, dim]

    Returns:
        ギャップベクトルとその大きさ
    """
    # L2正規化
    text_emb = F.normalize(text_emb, dim=-1)
    image_emb = F.normalize(image_emb, dim=-1)

    # 各モダリティの重心
    text_centroid = text_emb.mean(dim=0)
    image_centroid = image_emb.mean(dim=0)

    # ギャップベクトル（重心間の差）
    gap_vector = text_centroid - image_centroid
    gap_magnitude = gap_vector.norm().item()

    # 重心を正規化して角度も計算
    text_centroid_norm = F.normalize(text_centroid, dim=0)
    image_centroid_norm = F.normalize(image_centroid, dim=0)
    cos_angle = (text_centroid_norm @ image_centroid_norm).item()
    angle_deg = torch.acos(torch.tensor(cos_angle)).item() * 180 / 3.14159

    return {
        "gap_vector": gap_vector,
        "gap_magnitude": gap_magnitude,
        "centroid_angle_deg": angle_deg,
    }


def analyze_intra_inter_similarity(text_emb, image_emb):
    """モダリティ内・モダリティ間の類似度を分析

    Args:
        text_emb: テキスト埋め込み [n_samples, dim]
        image_emb: 画像埋め込み [n_samples, dim]

    Returns:
        各種統計量
    """
    text_emb = F.normalize(text_emb, dim=-1)
    image_emb = F.normalize(image_emb, dim=-1)

    # モダリティ内類似度
    text_sim = text_emb @ text_emb.T
    image_sim = image_emb @ image_emb.T

    # 対角成分を除いた平均（自分自身との類似度を除く）
    n = text_emb.size(0)
    mask = ~torch.eye(n, dtype=torch.bool, device=text_emb.device)

    intra_text = text_sim[mask].mean().item()
    intra_image = image_sim[mask].mean().item()

    # モダリティ間類似度
    cross_sim = text_emb @ image_emb.T
    inter_matched = cross_sim.diag().mean().item()  # 対応するペア
    inter_unmatched = cross_sim[mask].mean().item()  # 対応しないペア

    return {
        "intra_text_similarity": intra_text,
        "intra_image_similarity": intra_image,
        "inter_matched_similarity": inter_matched,
        "inter_unmatched_similarity": inter_unmatched,
    }


# ---- 11_feda.py (seed, unchanged) ------------------------------------------

def feda_transform(features, domain_label):
    """FEDA変換を適用"""
    batch_size, dim = features.shape

    # 3つのブロックを準備
    common = features  # 共通ブロック
    source_specific = torch.zeros_like(features)  # ソース専用
    target_specific = torch.zeros_like(features)  # ターゲット専用

    if domain_label == "source":
        source_specific = features
    elif domain_label == "target":
        target_specific = features

    # [共通; ソース専用; ターゲット専用] として結合
    return torch.cat([common, source_specific, target_specific], dim=-1)


def batch_feda_transform(features, domain_labels):
    """バッチ単位でFEDA変換を適用"""
    batch_size, dim = features.shape
    expanded = torch.zeros(batch_size, 3 * dim, device=features.device)

    # 共通ブロック（全サンプル共通）
    expanded[:, :dim] = features

    # ソース専用ブロック
    source_mask = domain_labels == 0
    expanded[source_mask, dim : 2 * dim] = features[source_mask]

    # ターゲット専用ブロック
    target_mask = domain_labels == 1
    expanded[target_mask, 2 * dim :] = features[target_mask]

    return expanded


# ---- what the lecture leaves open, as package analysis defines it -------------

def seed_matched_unmatched(text_emb, image_emb):
    """The two means 11_contrastive_loss.py prints."""
    sim_matrix = cosine_similarity_matrix(text_emb, image_emb)
    batch_size = text_emb.size(0)
    matched = sim_matrix.diag().mean().item()
    unmatched = (sim_matrix.sum() - sim_matrix.diag().sum()).item() / (batch_size * (batch_size - 1))
    return matched, unmatched


def recall_at_k(text_emb, image_emb, ks):
    """Fraction of texts (images) whose partner is among the k most similar
    images (texts); rank = number of others scoring strictly higher."""
    s = cosine_similarity_matrix(text_emb, image_emb)
    d = s.diag()
    t2i = (s > d[:, None]).sum(dim=1)
    i2t = (s > d[None, :]).sum(dim=0)
    return ({str(k): (t2i < k).double().mean().item() for k in ks},
            {str(k): (i2t < k).double().mean().item() for k in ks})


def train_probe(x, y, classes, epochs, l2):
    """Linear softmax probe, full-batch gradient descent from zero, float64:
    objective mean CE + l2/2·‖W‖², step 1/(max‖[x;1]‖²/2 + l2)."""
    x = x.double()
    n, d = x.shape
    lr = 1.0 / (((x * x).sum(dim=1) + 1).max().item() / 2 + l2)
    w = torch.zeros(classes, d, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(classes, dtype=torch.float64, requires_grad=True)

    def objective():
        return F.cross_entropy(x @ w.T + b, y) + l2 / 2 * (w * w).sum()

    for _ in range(epochs):
        loss = objective()
        gw, gb = torch.autograd.grad(loss, [w, b])
        with torch.no_grad():
            w -= lr * gw
            b -= lr * gb
    with torch.no_grad():
        final = objective().item()
    return w.detach(), b.detach(), final


def accuracy(w, b, x, y):
    z = x.double() @ w.T + b
    return (z.argmax(dim=1) == y).double().mean().item()


def domain_probe(x, y, domains, train, classes, epochs, l2):
    test = (~train) & (domains == 1)
    out = {"train_rows": int(train.sum()), "test_rows": int(test.sum())}
    feda = batch_feda_transform(x, domains)
    for name, feats, rows in [("plain", x, train), ("feda", feda, train),
                              ("source_only", x, train & (domains == 0))]:
        w, b, loss = train_probe(feats[rows], y[rows], classes, epochs, l2)
        out[name] = {"accuracy": accuracy(w, b, feats[test], y[test]), "train_loss": loss}
    return out


# ---- fixtures ---------------------------------------------------------------

def save(name, t):
    np.save(os.path.join(OUT, name + ".npy"), t.numpy().astype(np.float32))


def pairs_fixture(name, seed, n, dim, noise, offset, paired=True):
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(n, dim, generator=g)
    base_i = base if paired else torch.randn(n, dim, generator=g)
    shift = torch.zeros(dim)
    shift[0] = offset
    text_emb = base + noise * torch.randn(n, dim, generator=g) + shift
    image_emb = base_i + noise * torch.randn(n, dim, generator=g) - shift
    save(name + "_text", text_emb)
    save(name + "_image", image_emb)
    temps = [0.07, 0.01, 1.0]
    matched, unmatched = seed_matched_unmatched(text_emb, image_emb)
    t2i, i2t = recall_at_k(text_emb, image_emb, [1, 5, 10])
    gap = compute_modality_gap(text_emb, image_emb)
    expected = {
        "loss": {repr(t): clip_loss(text_emb, image_emb, temperature=t).item() for t in temps},
        "recall_t2i": t2i,
        "recall_i2t": i2t,
        "matched_cosine": matched,
        "unmatched_cosine": unmatched,
        "gap_magnitude": gap["gap_magnitude"],
        "centroid_angle_deg": gap["centroid_angle_deg"],
        "gap_vector": gap["gap_vector"].tolist(),
        "intra_inter": analyze_intra_inter_similarity(text_emb, image_emb),
    }
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(expected, f, indent=1)


def probe_fixture(name, seed, epochs, l2):
    g = torch.Generator().manual_seed(seed)
    classes, dim = 3, 16
    means = 0.45 * torch.randn(classes, dim, generator=g)
    target_shift = 0.8 * torch.randn(classes, dim, generator=g)
    xs, ys, ds, tr = [], [], [], []
    for domain, per_class in [(0, 50), (1, 24)]:
        for c in range(classes):
            m = means[c] + (target_shift[c] if domain == 1 else 0)
            xs.append(m + torch.randn(per_class, dim, generator=g))
            ys += [c] * per_class
            ds += [domain] * per_class
            # every source row trains; a third of each class's target rows too
            tr += [True] * per_class if domain == 0 else [i < per_class // 3 for i in range(per_class)]
    x = torch.cat(xs)
    y = torch.tensor(ys)
    d = torch.tensor(ds)
    t = torch.tensor(tr)
    save(name + "_x", x)
    np.save(os.path.join(OUT, name + "_meta.npy"), torch.stack([y, d, t.long()], dim=1).numpy().astype(np.float32))
    save(name + "_feda", batch_feda_transform(x, d))
    w, b, loss = train_probe(x[t], y[t], classes, epochs, l2)
    expected = {
        "classes": classes, "epochs": epochs, "l2": l2,
        "probe_w": w.tolist(), "probe_b": b.tolist(), "probe_loss": loss,
        "domain": domain_probe(x, y, d, t, classes, epochs, l2),
        # the lecture's single-domain transform agrees with the batch one
        "feda_single_agrees": bool(torch.equal(feda_transform(x[:5], "source"), batch_feda_transform(x[:5], torch.zeros(5, dtype=torch.long)))),
    }
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(expected, f, indent=1)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    # Paired embeddings sharing structure, with a modality offset.
    pairs_fixture("pairs", seed=0, n=100, dim=64, noise=1.6, offset=2.0)
    # The lecture's own usage example: unpaired N(0, I) embeddings shifted by
    # ±e1, at the contrastive example's batch 32 and dim 512.
    pairs_fixture("seedlike", seed=1, n=32, dim=512, noise=0.0, offset=1.0, paired=False)
    probe_fixture("probe", seed=2, epochs=200, l2=1e-3)


if __name__ == "__main__":
    main()
