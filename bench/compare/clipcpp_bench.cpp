// clipcpp_bench times clip.cpp's image encoder on one preprocessed image, so
// that bench/compare can put clip.cpp in the same run as the other
// contenders. It links clip.cpp's own library (built by clipcpp.py from the
// anchored sources) and calls its public API only.
//
//   clipcpp_bench MODEL.gguf PIXELS.f32 THREADS RUNS WARMUP [EMBEDDING.f32]
//
// PIXELS.f32 holds 3×S×S little-endian float32 values in channel-first order
// (the already normalised tensor every contender is fed). clip.cpp's own
// preprocessing is bypassed on purpose: only the encoder is timed and
// compared. Prints one JSON line with the per-call times in milliseconds;
// with EMBEDDING.f32 it also writes the normalised embedding of the last
// call there.
#include "clip.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char ** argv) {
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: %s MODEL.gguf PIXELS.f32 THREADS RUNS WARMUP [EMBEDDING.f32]\n", argv[0]);
        return 2;
    }
    const int threads = atoi(argv[3]), runs = atoi(argv[4]), warmup = atoi(argv[5]);
    if (threads < 1 || threads > 256 || runs < 1 || runs > 100000 || warmup < 0 || warmup > 100000) {
        fprintf(stderr, "clipcpp_bench: bad THREADS/RUNS/WARMUP\n");
        return 2;
    }

    clip_ctx * ctx = clip_model_load(argv[1], 0);
    if (!ctx) {
        fprintf(stderr, "clipcpp_bench: cannot load %s\n", argv[1]);
        return 1;
    }
    const clip_vision_hparams * hp = clip_get_vision_hparams(ctx);
    const int s = hp->image_size, dim = hp->projection_dim;
    const size_t n = 3 * (size_t)s * s;

    std::vector<float> chw(n);
    FILE * f = fopen(argv[2], "rb");
    if (!f || fread(chw.data(), sizeof(float), n, f) != n || fgetc(f) != EOF) {
        fprintf(stderr, "clipcpp_bench: %s must hold exactly 3x%dx%d float32 values\n", argv[2], s, s);
        return 1;
    }
    fclose(f);

    // clip_image_f32 is interleaved RGB (HWC); clip.cpp transposes it back.
    std::vector<float> hwc(n);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < s * s; i++) hwc[(size_t)i * 3 + c] = chw[(size_t)c * s * s + i];
    clip_image_f32 img{s, s, hwc.data(), n};

    std::vector<float> vec(dim);
    std::vector<double> ms;
    for (int i = 0; i < warmup + runs; i++) {
        auto t0 = std::chrono::steady_clock::now();
        if (!clip_image_encode(ctx, threads, &img, vec.data(), true)) {
            fprintf(stderr, "clipcpp_bench: clip_image_encode failed\n");
            return 1;
        }
        auto t1 = std::chrono::steady_clock::now();
        if (i >= warmup) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }

    if (argc == 7) {
        FILE * o = fopen(argv[6], "wb");
        if (!o || fwrite(vec.data(), sizeof(float), dim, o) != (size_t)dim || fclose(o) != 0) {
            fprintf(stderr, "clipcpp_bench: cannot write %s\n", argv[6]);
            return 1;
        }
    }

    printf("{\"threads\": %d, \"ms\": [", threads);
    for (size_t i = 0; i < ms.size(); i++) printf("%s%.4f", i ? ", " : "", ms[i]);
    printf("]}\n");
    clip_free(ctx);
    return 0;
}
