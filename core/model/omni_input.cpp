#include "model/omni_input.h"

#include "common/error.h"
#include "io/atomic_file.h"
#include "model/tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <utility>

namespace fs = std::filesystem;

namespace mq::core {

std::vector<ManifestSample> loadManifest(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw InputError(path + ": cannot open the calibration manifest");
    std::error_code absError;
    const fs::path base = fs::absolute(fs::path(path), absError).parent_path();
    std::vector<ManifestSample> out;
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        const std::string where = path + ":" + std::to_string(n);
        nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object())
            throw InputError(where + ": not a JSON object");
        ManifestSample s;
        s.line = n;
        for (const auto& [key, value] : j.items()) {
            if (key == "use_audio_in_video") {
                if (!value.is_boolean())
                    throw InputError(where + ": \"use_audio_in_video\" must be true or false");
                s.useAudioInVideo = value.get<bool>();
                continue;
            }
            if (key == "fps") {
                if (!value.is_number() || !(value.get<double>() > 0.0) || !std::isfinite(value.get<double>()))
                    throw InputError(where + ": \"fps\" must be a number above 0 (frames per second to sample)");
                s.fps = value.get<double>();
                continue;
            }
            if (!value.is_string())
                throw InputError(where + ": \"" + key + "\" must be a string");
            std::string v = value.get<std::string>();
            if (key == "text") {
                s.text = v;
                continue;
            }
            if (key == "system") {
                s.system = v;
                continue;
            }
            std::string* slot = key == "image" ? &s.image : key == "audio" ? &s.audio : key == "video" ? &s.video : nullptr;
            if (!slot)
                throw InputError(where + ": unknown key \"" + key
                                 + "\" (expected text, image, audio, video, system, fps, use_audio_in_video)");
            fs::path p(v);
            if (p.is_relative())
                p = base / p;
            p = p.lexically_normal();
            // The error-code form: a name the system refuses (too long, say) is a bad manifest
            // entry, not an exception that escapes as a filesystem_error.
            std::error_code ec;
            const fs::file_status st = fs::status(p, ec);
            if (!fs::exists(st)) {
                const bool missing = !ec || ec == std::errc::no_such_file_or_directory;
                throw InputError(where + ": " + key + " '" + p.string() + "' "
                                 + (missing ? std::string("does not exist") : "cannot be read: " + ec.message()));
            }
            if (key == "video")
                s.videoIsFile = !fs::is_directory(st);
            *slot = p.string();
        }
        if (s.useAudioInVideo && !s.videoIsFile)
            throw InputError(where + ": \"use_audio_in_video\" needs a video file with an audio track (\"video\" "
                             + (s.video.empty() ? std::string("is missing") : "'" + s.video + "' is a folder of frames")
                             + ")");
        if (s.text.empty() && s.image.empty() && s.audio.empty() && s.video.empty())
            throw InputError(where + ": the sample has no text, image, audio or video");
        out.push_back(std::move(s));
    }
    if (out.empty())
        throw InputError(path + ": the manifest has no samples");
    return out;
}

OmniTokenIds omniTokenIds(const Tokenizer& tok)
{
    OmniTokenIds t;
    t.imStart = tok.tokenId("<|im_start|>");
    t.imEnd = tok.tokenId("<|im_end|>");
    t.image = tok.tokenId("<|IMAGE|>");
    t.video = tok.tokenId("<|VIDEO|>");
    t.audio = tok.tokenId("<|AUDIO|>");
    t.visionBos = tok.tokenId("<|vision_bos|>");
    t.visionEos = tok.tokenId("<|vision_eos|>");
    t.audioBos = tok.tokenId("<|audio_bos|>");
    t.audioEos = tok.tokenId("<|audio_eos|>");
    return t;
}

namespace {

class Builder {
public:
    explicit Builder(PromptLayout& p) : m_p(p) {}

    // A token at one position on all rows.
    void text(int64_t id)
    {
        push(id, Modality::Text, m_next, m_next, m_next);
    }
    void text(const std::vector<int64_t>& ids)
    {
        for (int64_t id : ids)
            text(id);
    }
    // Tokens that share one position (the two bos or the two eos markers of a video with audio).
    void markers(std::initializer_list<int64_t> ids)
    {
        const int64_t p = m_next;
        for (int64_t id : ids)
            push(id, Modality::Text, p, p, p);
    }
    // The temporal position of grid slice t: (arange(T) * float32 secondsPerGrid * 25).long().
    static int64_t temporal(int64_t t, double secondsPerGrid)
    {
        return int64_t(float(float(t) * float(secondsPerGrid)) * 25.0f);
    }
    // Merged vision tokens of a (gridT, gridH, gridW) patch grid.
    void grid(int64_t id, Modality m, int64_t gt, int64_t gh, int64_t gw, double secondsPerGrid)
    {
        const int64_t s = m_next, hh = gh / 2, ww = gw / 2;
        for (int64_t t = 0; t < gt; ++t) {
            const int64_t tp = s + temporal(t, secondsPerGrid);
            for (int64_t r = 0; r < hh; ++r)
                for (int64_t c = 0; c < ww; ++c)
                    push(id, m, tp, s + r, s + c);
        }
    }
    // A video and its audio track interleaved per 2 s chunk (transformers' get_rope_index with
    // use_audio_in_video and the processor's placeholder layout).
    void videoWithAudio(int64_t videoId, int64_t audioId, int64_t gt, int64_t gh, int64_t gw, double secondsPerGrid,
                        int64_t audioTokens)
    {
        const int64_t s = m_next, hh = gh / 2, ww = gw / 2;
        struct Pos {
            int64_t t, h, w;
        };
        std::vector<Pos> video, audio;
        for (int64_t t = 0; t < gt; ++t)
            for (int64_t r = 0; r < hh; ++r)
                for (int64_t c = 0; c < ww; ++c)
                    video.push_back({s + temporal(t, secondsPerGrid), s + r, s + c});
        for (int64_t k = 0; k < audioTokens; ++k)
            audio.push_back({s + k, s + k, s + k});
        constexpr int64_t kPerChunk = 25 * 2; // position_id_per_seconds * seconds_per_chunk
        // get_chunked_index: a new chunk starts at the first token whose t - s reaches the next
        // multiple of kPerChunk (one chunk per crossing, even if a jump passes several).
        auto chunks = [&](const std::vector<Pos>& v) {
            std::vector<std::pair<size_t, size_t>> out;
            size_t start = 0;
            int64_t current = 1;
            for (size_t i = 0; i < v.size(); ++i)
                if (v[i].t - s >= current * kPerChunk) {
                    out.emplace_back(start, i);
                    start = i;
                    ++current;
                }
            out.emplace_back(start, v.size());
            return out;
        };
        const auto vc = chunks(video), ac = chunks(audio);
        for (size_t j = 0; j < std::max(vc.size(), ac.size()); ++j) {
            if (j < vc.size())
                for (size_t i = vc[j].first; i < vc[j].second; ++i)
                    push(videoId, Modality::Video, video[i].t, video[i].h, video[i].w);
            if (j < ac.size())
                for (size_t i = ac[j].first; i < ac[j].second; ++i)
                    push(audioId, Modality::Audio, audio[i].t, audio[i].h, audio[i].w);
        }
    }
    void audio(int64_t id, int64_t n)
    {
        const int64_t s = m_next;
        for (int64_t k = 0; k < n; ++k)
            push(id, Modality::Audio, s + k, s + k, s + k);
    }

private:
    void push(int64_t id, Modality m, int64_t t, int64_t h, int64_t w)
    {
        m_p.ids.push_back(id);
        m_p.modality.push_back(uint8_t(m));
        m_t.push_back(t);
        m_h.push_back(h);
        m_w.push_back(w);
        m_next = std::max({m_next, t + 1, h + 1, w + 1});
    }

public:
    void finish()
    {
        m_p.positions.clear();
        m_p.positions.insert(m_p.positions.end(), m_t.begin(), m_t.end());
        m_p.positions.insert(m_p.positions.end(), m_h.begin(), m_h.end());
        m_p.positions.insert(m_p.positions.end(), m_w.begin(), m_w.end());
    }

private:
    PromptLayout& m_p;
    std::vector<int64_t> m_t, m_h, m_w;
    int64_t m_next = 0;
};

} // namespace

PromptLayout buildPrompt(const Tokenizer& tok, const OmniTokenIds& ids, const std::string& text,
                         const MediaLayout& media, const std::string& system)
{
    PromptLayout p;
    Builder b(p);
    b.text(ids.imStart);
    b.text(tok.encode("system\n" + system));
    b.text(ids.imEnd);
    b.text(tok.encode("\n"));
    b.text(ids.imStart);
    b.text(tok.encode("user\n"));
    if (media.imageGridT > 0) {
        b.text(ids.visionBos);
        b.grid(ids.image, Modality::Image, media.imageGridT, media.imageGridH, media.imageGridW, 0.0);
        b.text(ids.visionEos);
    }
    if (media.videoGridT > 0 && media.videoAudioTokens > 0) {
        b.markers({ids.visionBos, ids.audioBos});
        b.videoWithAudio(ids.video, ids.audio, media.videoGridT, media.videoGridH, media.videoGridW,
                         media.videoSecondsPerGrid, media.videoAudioTokens);
        b.markers({ids.audioEos, ids.visionEos});
    } else if (media.videoGridT > 0) {
        b.text(ids.visionBos);
        b.grid(ids.video, Modality::Video, media.videoGridT, media.videoGridH, media.videoGridW,
               media.videoSecondsPerGrid);
        b.text(ids.visionEos);
    }
    if (media.audioTokens > 0) {
        b.text(ids.audioBos);
        b.audio(ids.audio, media.audioTokens);
        b.text(ids.audioEos);
    }
    if (!text.empty())
        b.text(tok.encode(text));
    b.text(ids.imEnd);
    b.text(tok.encode("\n"));
    b.text(ids.imStart);
    b.text(tok.encode("assistant\n"));
    b.finish();
    return p;
}

} // namespace mq::core
