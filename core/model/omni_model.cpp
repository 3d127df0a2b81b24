#include "model/omni_model.h"

#include "common/error.h"
#include "encoder_quant.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "model/audio_encoder.h"
#include "model/audio_features.h"
#include "io/video_decode.h"
#include "model/image_features.h"
#include "model/tokenizer.h"
#include "model/vision_encoder.h"

#include <nlohmann/json.hpp>

#include <mutex>
#include <optional>

namespace mq::core {

namespace {

struct Prepared {
    std::optional<VisionPatches> image, video;
    at::Tensor mel;      // [nMels, validFrames] or undefined
    at::Tensor videoMel; // the video file's audio track (use_audio_in_video), or undefined
    PromptLayout prompt;
};

// Log-mel rows [nMels, validFrames] of a clip, and its audio token count (>= 1, or InputError).
at::Tensor melRows(const LogMel& mel, const std::string& source, int64_t* tokens)
{
    at::Tensor rows = at::from_blob(const_cast<float*>(mel.data.data()), {mel.nMels, mel.frames}, at::kFloat)
                          .narrow(1, 0, mel.validFrames)
                          .clone();
    *tokens = AudioEncoder::tokenCount(mel.validFrames);
    if (*tokens < 1)
        throw InputError(describe(source, "", "the clip gives " + std::to_string(mel.validFrames)
                                                  + " log-mel frame(s) at 16 kHz; the audio encoder needs at least 3 "
                                                    "frames (a clip of about 30 ms or more)"));
    return rows;
}

} // namespace

struct OmniCalibration::Impl {
    // The encoders are loaded when features must be computed and released once every sample's
    // features are cached (a 7B model's encoders hold 2.6 GB): later passes read the cache.
    std::string modelDir;
    std::optional<VisionConfig> visionCfg;
    std::optional<AudioConfig> audioCfg;
    mutable std::mutex encoderMutex;
    mutable std::shared_ptr<const VisionEncoder> vision;
    mutable std::shared_ptr<const AudioEncoder> audio;
    void ensureEncoders(bool needVision, bool needAudio) const
    {
        if ((!needVision || vision) && (!needAudio || audio))
            return;
        Checkpoint ck(modelDir);
        if (needVision && !vision)
            vision = std::make_shared<const VisionEncoder>(VisionEncoder::load(*visionCfg, ck));
        if (needAudio && !audio)
            audio = std::make_shared<const AudioEncoder>(AudioEncoder::load(*audioCfg, ck));
    }
    std::vector<std::string> visionGroups, audioGroups;
    std::vector<Prepared> samples;
    OmniTokenIds ids;
    // Encoder outputs per sample (image, video, audio; undefined where absent), computed once.
    struct Features {
        at::Tensor image, video, audio, videoAudio;
        bool done = false;
    };
    mutable std::mutex cacheMutex;
    mutable std::vector<Features> features;
    mutable int64_t cachedBytes = 0;
};

OmniCalibration::OmniCalibration(const std::string& modelDir, const std::string& manifestPath)
    : m_source(manifestPath), m_impl(std::make_unique<Impl>())
{
    const std::string cfgPath = modelDir + "/config.json";
    const nlohmann::json cfg = nlohmann::json::parse(readTextFile(cfgPath), nullptr, false);
    if (cfg.is_discarded() || cfg.value("model_type", std::string()) != "qwen2_5_omni")
        throw InputError(cfgPath + ": a manifest with images, audio or video needs a qwen2_5_omni checkpoint");
    const nlohmann::json& thinker = cfg["thinker_config"];
    const Tokenizer tok = Tokenizer::fromFile(modelDir + "/tokenizer.json");
    m_impl->ids = omniTokenIds(tok);
    Checkpoint ck(modelDir);
    const std::vector<ManifestSample> manifest = loadManifest(manifestPath);
    bool needVision = false, needAudio = false;
    for (const ManifestSample& s : manifest) {
        needVision = needVision || !s.image.empty() || !s.video.empty();
        needAudio = needAudio || !s.audio.empty() || s.useAudioInVideo;
    }
    m_impl->modelDir = modelDir;
    if (needVision) {
        m_impl->visionCfg = VisionConfig::fromJson(thinker.value("vision_config", nlohmann::json()),
                                                   cfgPath + " (thinker_config.vision_config)");
        m_impl->vision = std::make_shared<const VisionEncoder>(VisionEncoder::load(*m_impl->visionCfg, ck));
        m_impl->visionGroups = m_impl->vision->groups();
    }
    if (needAudio) {
        m_impl->audioCfg = AudioConfig::fromJson(thinker.value("audio_config", nlohmann::json()),
                                                 cfgPath + " (thinker_config.audio_config)");
        m_impl->audio = std::make_shared<const AudioEncoder>(AudioEncoder::load(*m_impl->audioCfg, ck));
        m_impl->audioGroups = m_impl->audio->groups();
    }
    for (const ManifestSample& s : manifest) {
        const std::string where = manifestPath + ":" + std::to_string(s.line) + ": ";
        try {
            Prepared p;
            MediaLayout media;
            if (!s.image.empty()) {
                p.image = imagePatches(s.image);
                media.imageGridT = p.image->gridT;
                media.imageGridH = p.image->gridH;
                media.imageGridW = p.image->gridW;
            }
            if (!s.video.empty()) {
                if (s.videoIsFile) { // decoded with FFmpeg, sampled at the line's fps as the processor does
                    const VideoInfo info = probeVideo(s.video);
                    std::vector<int64_t> frames;
                    try {
                        frames = sampleFrameIndices(info.frames, info.fps, s.fps);
                    } catch (const InputError& e) {
                        throw InputError(describe(s.video, "", e.what()));
                    }
                    p.video = videoPatches(decodeVideoFrames(s.video, frames), s.video);
                } else {
                    p.video = videoPatches(videoFrames(s.video));
                }
                media.videoGridT = p.video->gridT;
                media.videoGridH = p.video->gridH;
                media.videoGridW = p.video->gridW;
                media.videoSecondsPerGrid = 2.0 / s.fps; // temporal_patch_size / fps
                if (s.useAudioInVideo) {
                    const DecodedAudio track = decodeAudioTrack(s.video);
                    const std::vector<float> samples = resampleTo16k(track.samples, track.sampleRate, s.video);
                    p.videoMel = melRows(samplesLogMel(samples, m_impl->audioCfg->numMelBins, s.video), s.video,
                                         &media.videoAudioTokens);
                }
            }
            if (!s.audio.empty())
                p.mel = melRows(audioFileLogMel(s.audio, m_impl->audioCfg->numMelBins), s.audio, &media.audioTokens);
            p.prompt = buildPrompt(tok, m_impl->ids, s.text, media, s.system);
            m_impl->samples.push_back(std::move(p));
        } catch (const InputError& e) {
            throw InputError(where + e.what());
        }
    }
}

OmniCalibration::~OmniCalibration() = default;

size_t OmniCalibration::samples() const { return m_impl->samples.size(); }

std::vector<std::string> OmniCalibration::extraGroups() const
{
    std::vector<std::string> g = m_impl->visionGroups;
    g.insert(g.end(), m_impl->audioGroups.begin(), m_impl->audioGroups.end());
    return g;
}

bool OmniCalibration::encodersLoaded() const
{
    std::lock_guard<std::mutex> lock(m_impl->encoderMutex);
    return m_impl->vision || m_impl->audio;
}

size_t OmniCalibration::cachedFeatures() const
{
    std::lock_guard<std::mutex> lock(m_impl->cacheMutex);
    size_t n = 0;
    for (const auto& f : m_impl->features)
        n += f.done ? 1 : 0;
    return n;
}

std::shared_ptr<const VisionEncoder> OmniCalibration::visionEncoder() const
{
    std::lock_guard<std::mutex> lock(m_impl->encoderMutex);
    if (!m_impl->visionCfg)
        return nullptr;
    m_impl->ensureEncoders(true, false);
    return m_impl->vision;
}

std::shared_ptr<const AudioEncoder> OmniCalibration::audioEncoder() const
{
    std::lock_guard<std::mutex> lock(m_impl->encoderMutex);
    if (!m_impl->audioCfg)
        return nullptr;
    m_impl->ensureEncoders(false, true);
    return m_impl->audio;
}

bool OmniCalibration::usesVision(size_t i) const
{
    const Prepared& p = m_impl->samples.at(i);
    return p.image || p.video;
}

bool OmniCalibration::usesAudio(size_t i) const
{
    const Prepared& p = m_impl->samples.at(i);
    return p.mel.defined() || p.videoMel.defined();
}

OmniCalibration::EncoderOutputs OmniCalibration::encode(size_t i, int decoderGroups, ForwardHook* hook,
                                                        const VisionEncoder* vision, const AudioEncoder* audio) const
{
    std::shared_ptr<const VisionEncoder> ownVision;
    std::shared_ptr<const AudioEncoder> ownAudio;
    const bool needVision = usesVision(i) && !vision;
    const bool needAudio = usesAudio(i) && !audio;
    if (needVision || needAudio) {
        std::lock_guard<std::mutex> lock(m_impl->encoderMutex);
        m_impl->ensureEncoders(needVision, needAudio);
        ownVision = m_impl->vision;
        ownAudio = m_impl->audio;
        vision = vision ? vision : ownVision.get();
        audio = audio ? audio : ownAudio.get();
    }
    // A hook may end one forward early (StopForward: it has the input it wanted); the others run.
    EncoderOutputs f;
    for (const EncoderPass& e : passes(i, decoderGroups, vision, audio)) {
        try {
            f.*e.slot = runAllSteps(*e.pass, hook);
        } catch (const StopForward&) {
        }
    }
    return f;
}

std::vector<OmniCalibration::EncoderPass> OmniCalibration::passes(size_t i, int decoderGroups,
                                                                  const VisionEncoder* vision,
                                                                  const AudioEncoder* audio) const
{
    const Prepared& p = m_impl->samples.at(i);
    const int visionOffset = decoderGroups;
    const int audioOffset = visionOffset + int(m_impl->visionGroups.size());
    if ((usesVision(i) && !vision) || (usesAudio(i) && !audio))
        throw Error("OmniCalibration::passes: sample " + std::to_string(i) + " needs an encoder that was not given");
    std::vector<EncoderPass> out;
    auto add = [&](std::unique_ptr<TowerPass> pass, bool isVision, at::Tensor EncoderOutputs::*slot) {
        EncoderPass e;
        e.pass = std::move(pass);
        e.vision = isVision;
        e.slot = slot;
        out.push_back(std::move(e));
    };
    if (p.image)
        add(vision->pass(p.image->patches, p.image->gridT, p.image->gridH, p.image->gridW, visionOffset,
                         uint8_t(Modality::Image)),
            true, &EncoderOutputs::image);
    if (p.video)
        add(vision->pass(p.video->patches, p.video->gridT, p.video->gridH, p.video->gridW, visionOffset,
                         uint8_t(Modality::Video)),
            true, &EncoderOutputs::video);
    if (p.videoMel.defined())
        add(audio->pass(p.videoMel, audioOffset, uint8_t(Modality::Audio)), false, &EncoderOutputs::videoAudio);
    if (p.mel.defined())
        add(audio->pass(p.mel, audioOffset, uint8_t(Modality::Audio)), false, &EncoderOutputs::audio);
    return out;
}

DecoderInput OmniCalibration::prepare(size_t i, const DecoderModel& decoder, ForwardHook* hook,
                                      bool observeEncoders) const
{
    Impl::Features f;
    {
        std::lock_guard<std::mutex> lock(m_impl->cacheMutex);
        if (m_impl->features.size() != m_impl->samples.size())
            m_impl->features.resize(m_impl->samples.size());
        if (!observeEncoders && m_impl->features[i].done)
            f = m_impl->features[i];
    }
    if (!f.done) {
        const EncoderOutputs out = encode(i, int(decoder.groups().size()), hook);
        f.image = out.image;
        f.video = out.video;
        f.audio = out.audio;
        f.videoAudio = out.videoAudio;
        f.done = true;
        int64_t bytes = 0;
        for (const at::Tensor* t : {&f.image, &f.video, &f.audio, &f.videoAudio})
            if (t->defined())
                bytes += t->numel() * int64_t(t->element_size());
        std::lock_guard<std::mutex> lock(m_impl->cacheMutex);
        if (!m_impl->features[i].done && m_impl->cachedBytes + bytes <= featureCacheBytes) {
            m_impl->features[i] = f;
            m_impl->cachedBytes += bytes;
        }
        bool all = true;
        for (const Impl::Features& c : m_impl->features)
            all = all && c.done;
        if (all) { // every sample served from the cache from now on: the encoders can go
            std::lock_guard<std::mutex> encLock(m_impl->encoderMutex);
            m_impl->vision.reset();
            m_impl->audio.reset();
        }
    }
    return place(i, decoder, {f.image, f.video, f.audio, f.videoAudio});
}

DecoderInput OmniCalibration::prepareQuantized(size_t i, const DecoderModel& decoder, const EncoderQuant& enc) const
{
    return place(i, decoder, enc.outputs(i));
}

DecoderInput OmniCalibration::place(size_t i, const DecoderModel& decoder, const EncoderOutputs& f) const
{
    const Prepared& p = m_impl->samples.at(i);
    const int64_t T = int64_t(p.prompt.ids.size());
    at::Tensor ids = at::tensor(p.prompt.ids, at::kLong).reshape({1, T});
    at::Tensor embeds = decoder.embed(ids).clone();
    // Encoder outputs overwrite the placeholder embeddings in order; counts must agree.
    auto place = [&](int64_t token, const at::Tensor& features, const char* what) {
        at::Tensor rows = ids[0].eq(token).nonzero().flatten();
        if (rows.numel() != features.size(0))
            throw Error(std::string(what) + ": " + std::to_string(features.size(0)) + " encoder tokens for "
                        + std::to_string(rows.numel()) + " placeholders");
        embeds[0].index_copy_(0, rows, decoder.toResidualBasis(features.to(embeds.dtype())));
    };
    if (f.image.defined())
        place(m_impl->ids.image, f.image, "image");
    if (f.video.defined())
        place(m_impl->ids.video, f.video, "video");
    // The video's own audio comes first: its segment precedes the audio clip's in the prompt.
    if (f.videoAudio.defined() || f.audio.defined())
        place(m_impl->ids.audio,
              f.videoAudio.defined() && f.audio.defined() ? at::cat({f.videoAudio, f.audio}, 0)
                                                          : (f.videoAudio.defined() ? f.videoAudio : f.audio),
              "audio");
    DecoderInput in;
    in.embeds = embeds;
    in.ids = ids;
    in.modality = at::tensor(p.prompt.modality, at::kByte).reshape({1, T});
    in.positions = at::tensor(p.prompt.positions, at::kLong).reshape({3, 1, T});
    return in;
}

} // namespace mq::core
