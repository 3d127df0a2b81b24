// Calibration throughput per modality on the tiny Qwen2.5-Omni checkpoint: for each modality a
// manifest of REPEATS samples of that kind (media from tests/data), calibrated through the
// encoders and the thinker with statistics collection; prints tokens/s of that modality and of
// all tokens (the chat prompt's text included), best of 3.
// usage: bench_omni_calib [REPEATS [THREADS]]
#include "common/runtime.h"
#include "io/atomic_file.h"
#include "model/decoder.h"
#include "model/omni_model.h"
#include "model/tiny_omni.h"
#include "pipeline.h"

#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

using namespace mq::core;

int main(int argc, char** argv)
{
    const int repeats = argc > 1 ? std::atoi(argv[1]) : 16;
    initRuntime(argc > 2 ? std::atoi(argv[2]) : 0);
    const std::string data = MQ_TEST_DATA_DIR;
    const std::filesystem::path tmp = std::filesystem::temp_directory_path() / "mq-bench-omni";
    std::filesystem::remove_all(tmp);
    std::filesystem::create_directories(tmp);
    const std::string model = (tmp / "tiny-omni").string();
    writeTinyOmni(model, 0);
    DecoderModel decoder = DecoderModel::load(model);
    const struct {
        Modality modality;
        std::string line;
    } kinds[] = {
        {Modality::Text, R"({"text": "once upon a time there was a little cat who liked to sit in the sun and sleep all day long"})"},
        {Modality::Image, "{\"image\": \"" + data + "/images/rose_64x48.png\"}"},
        {Modality::Audio, "{\"audio\": \"" + data + "/audio/hello.wav\"}"},
        {Modality::Video, "{\"video\": \"" + data + "/images/video\"}"},
    };
    std::printf("tiny Qwen2.5-Omni (hidden 64), %d samples per modality, %d threads, best of 3\n", repeats,
                at::get_num_threads());
    std::printf("%-8s %12s %14s %14s\n", "modality", "its tokens", "its tokens/s", "all tokens/s");
    for (const auto& k : kinds) {
        std::string text;
        for (int i = 0; i < repeats; ++i)
            text += k.line + "\n";
        const std::string manifest = (tmp / (std::string(modalityName(k.modality)) + ".jsonl")).string();
        writeFileAtomic(manifest, text);
        OmniCalibration calib(model, manifest);
        double best = 1e30;
        Session s;
        for (int r = 0; r < 3; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            calibrate(s, decoder, calib);
            best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        const double own = double(s.calibration.tokens[size_t(k.modality)]);
        std::printf("%-8s %12.0f %14.0f %14.0f\n", modalityName(k.modality), own, own / best,
                    double(s.calibration.totalTokens()) / best);
    }
    std::filesystem::remove_all(tmp);
    return 0;
}
