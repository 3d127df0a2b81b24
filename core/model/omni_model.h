#pragma once
// Calibration on a Qwen2.5-Omni manifest: every sample is pre-processed as the released
// processor does (image/video patches, Whisper log-mel), run through the vision and audio
// encoders (their Linear inputs reported as extra groups), placed at the placeholder tokens of
// the chat prompt, and the thinker's decoder runs on the result with TMRoPE positions. Every
// token carries its modality to the hook, so statistics are kept per modality.
// The encoders stay in full precision; the plan quantizes the decoder.
#include <memory>
#include <string>
#include <vector>

#include "calib/calib_data.h"
#include "model/omni_input.h"

namespace mq::core {

class OmniCalibration : public CalibrationData {
public:
    // modelDir: a qwen2_5_omni checkpoint (config.json, shards, tokenizer.json). Media is
    // pre-processed here, so a bad image or audio file fails now, naming the manifest line.
    OmniCalibration(const std::string& modelDir, const std::string& manifestPath);
    ~OmniCalibration() override;

    std::string source() const override { return m_source; }
    std::string kind() const override { return "manifest"; }
    int batchSize() const override { return 1; } // one sample per forward
    size_t samples() const override;
    size_t batches() const override { return samples(); } // one sample per forward
    std::vector<std::string> extraGroups() const override;
    // Encoder features are kept per sample (up to featureCacheBytes in all) once computed, and
    // served again when observeEncoders is false.
    DecoderInput prepare(size_t i, const DecoderModel& decoder, ForwardHook* hook,
                         bool observeEncoders = true) const override;
    int64_t featureCacheBytes = int64_t(1) << 30;
    // Samples whose features are cached (tests).
    size_t cachedFeatures() const;
    // Whether the encoders are in memory now: they are released once every sample's features
    // are cached, and loaded again when features must be computed (tests).
    bool encodersLoaded() const;

private:
    struct Impl;
    std::string m_source;
    std::unique_ptr<Impl> m_impl;
};

} // namespace mq::core
