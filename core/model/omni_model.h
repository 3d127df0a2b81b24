#pragma once
// Calibration on a Qwen2.5-Omni manifest: every sample is pre-processed as the released
// processor does (image/video patches, Whisper log-mel), run through the vision and audio
// encoders (their Linear inputs reported as extra groups), placed at the placeholder tokens of
// the chat prompt, and the thinker's decoder runs on the result with TMRoPE positions. Every
// token carries its modality to the hook, so statistics are kept per modality.
// The encoders stay in full precision unless the plan quantizes them too (--quantize-encoders:
// encoder_quant.h), whose quantized copies prepareQuantized runs instead.
#include <memory>
#include <string>
#include <vector>

#include "calib/calib_data.h"
#include "model/forward_hook.h"
#include "model/omni_input.h"

namespace mq::core {

class AudioEncoder;
class VisionEncoder;

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
    // Sample i's input with the quantized encoders' outputs (computed when enc was made).
    DecoderInput prepareQuantized(size_t i, const DecoderModel& decoder, const EncoderQuant& enc) const override;

    // Sample i's encoder outputs (undefined where it has no such input): the image, the video's
    // frames, the audio clip and the video's own audio track. hook sees the encoders' Linear
    // inputs (group indices after the decoder's decoderGroups); vision / audio replace the
    // checkpoint's encoders (quantized copies). A forward the hook ends (StopForward) leaves its
    // output undefined and the sample's other inputs still run.
    struct EncoderOutputs {
        at::Tensor image, video, audio, videoAudio;
    };
    EncoderOutputs encode(size_t i, int decoderGroups, ForwardHook* hook, const VisionEncoder* vision = nullptr,
                          const AudioEncoder* audio = nullptr) const;
    // Sample i's inputs as encoder passes (TowerPass), in encode()'s order (image, video, the
    // video's audio, the clip) with vision or audio marked; vision / audio as in encode (not null
    // where the sample has such an input).
    struct EncoderPass {
        std::unique_ptr<TowerPass> pass;
        bool vision = false;
        at::Tensor EncoderOutputs::*slot = nullptr; // the output it gives
    };
    std::vector<EncoderPass> passes(size_t i, int decoderGroups, const VisionEncoder* vision,
                                    const AudioEncoder* audio) const;
    // The checkpoint's encoders, loaded again where they were released (null where the manifest
    // has no input for one).
    std::shared_ptr<const VisionEncoder> visionEncoder() const;
    std::shared_ptr<const AudioEncoder> audioEncoder() const;
    // Whether sample i has an input for the vision / audio encoder.
    bool usesVision(size_t i) const;
    bool usesAudio(size_t i) const;
    // Samples whose features are cached (tests).
    size_t cachedFeatures() const;
    // Whether the encoders are in memory now: they are released once every sample's features
    // are cached, and loaded again when features must be computed (tests).
    bool encodersLoaded() const;

private:
    // The decoder input of sample i from its encoder outputs (placed at the placeholders).
    DecoderInput place(size_t i, const DecoderModel& decoder, const EncoderOutputs& f) const;
    struct Impl;
    std::string m_source;
    std::unique_ptr<Impl> m_impl;
};

} // namespace mq::core
