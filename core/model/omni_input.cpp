#include "model/omni_input.h"

#include "common/error.h"
#include "io/atomic_file.h"
#include "model/tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace mq::core {

std::vector<ManifestSample> loadManifest(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw InputError(path + ": cannot open the calibration manifest");
    const fs::path base = fs::absolute(fs::path(path)).parent_path();
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
            if (!value.is_string())
                throw InputError(where + ": \"" + key + "\" must be a string");
            std::string v = value.get<std::string>();
            if (key == "text") {
                s.text = v;
                continue;
            }
            std::string* slot = key == "image" ? &s.image : key == "audio" ? &s.audio : key == "video" ? &s.video : nullptr;
            if (!slot)
                throw InputError(where + ": unknown key \"" + key + "\" (expected text, image, audio, video)");
            fs::path p(v);
            if (p.is_relative())
                p = base / p;
            p = p.lexically_normal();
            if (!fs::exists(p))
                throw InputError(where + ": " + key + " '" + p.string() + "' does not exist");
            if (key == "video" && !fs::is_directory(p))
                throw InputError(where + ": video '" + p.string() + "' must be a folder of frames");
            *slot = p.string();
        }
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
    // Merged vision tokens of a (gridT, gridH, gridW) patch grid.
    void grid(int64_t id, Modality m, int64_t gt, int64_t gh, int64_t gw, double secondsPerGrid)
    {
        const int64_t s = m_next, hh = gh / 2, ww = gw / 2;
        for (int64_t t = 0; t < gt; ++t) {
            const int64_t tp = s + int64_t(std::floor(double(t) * secondsPerGrid * 25.0));
            for (int64_t r = 0; r < hh; ++r)
                for (int64_t c = 0; c < ww; ++c)
                    push(id, m, tp, s + r, s + c);
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
                         const MediaLayout& media)
{
    PromptLayout p;
    Builder b(p);
    b.text(ids.imStart);
    b.text(tok.encode("system\nYou are a helpful assistant."));
    b.text(ids.imEnd);
    b.text(tok.encode("\n"));
    b.text(ids.imStart);
    b.text(tok.encode("user\n"));
    if (media.imageGridT > 0) {
        b.text(ids.visionBos);
        b.grid(ids.image, Modality::Image, media.imageGridT, media.imageGridH, media.imageGridW, 0.0);
        b.text(ids.visionEos);
    }
    if (media.videoGridT > 0) {
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
