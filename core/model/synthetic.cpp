#include "model/synthetic.h"

#include "common/error.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "model/tiny_omni.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>
#include <random>

// stb_image_write for the Omni shapes' calibration images, compiled into this file only.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

namespace mq::core {

namespace {

using nlohmann::json;

// The thinker's encoders (Qwen2.5-Omni shapes).
struct VisionDims {
    int64_t depth, dim, heads, inter;
    std::vector<int> fullAttention;
};
struct AudioDims {
    int64_t layers, dim, heads, ffn, mels;
};
// The talker: a Qwen2 decoder of its own fed from the thinker (see talkerSpecs).
struct TalkerDims {
    int64_t hidden, inter, layers, heads, kvHeads, headDim, vocab;
};

struct Shape {
    int64_t hidden, inter, heads, kvHeads, vocab;
    int layers;
    bool bias;
    double ropeTheta;
    bool omni = false;
    VisionDims vision{};
    AudioDims audio{};
    TalkerDims talker{};
    bool fullToken2Wav = false; // the released DiT + BigVGAN sizes (tests: a tiny stand-in)
};

Shape shapeOf(const std::string& name)
{
    // Qwen2.5-7B(-Instruct) config.json values.
    if (name == "qwen2.5-7b")
        return {3584, 18944, 28, 4, 152064, 28, true, 1000000.0};
    if (name == "test-wide")
        return {256, 1024, 4, 2, 1024, 2, true, 1000000.0};
    // Qwen2.5-Omni thinker text, vision and audio configs (QWEN25_OMNI.md, section 1); the talker
    // as bench/README.md describes (its layer and head counts are not settled by public sources).
    const VisionDims vision{32, 1280, 16, 3420, {7, 15, 23, 31}};
    const AudioDims audio{32, 1280, 20, 5120, 128};
    // Talkers: 24 layers of width 896 (7B: 12/4 heads of 128, intermediate 18944; 3B: 14/2 of
    // 64, 4864), derived in bench/README.md's notes from public loaders and the shard sizes.
    if (name == "qwen2.5-omni-7b")
        return {3584, 18944, 28, 4, 152064, 28, true, 1000000.0, true, vision, audio,
                TalkerDims{896, 18944, 24, 12, 4, 128, 8448}, true};
    if (name == "qwen2.5-omni-3b")
        return {2048, 11008, 16, 2, 151936, 36, true, 1000000.0, true, vision, audio,
                TalkerDims{896, 4864, 24, 14, 2, 64, 8448}, true};
    // Every part of the Omni layout at small sizes (tests): head_dim 128 keeps the released
    // mrope sections [16, 24, 24]; the vocabulary holds Qwen's special-token ids.
    if (name == "test-omni")
        return {256, 512, 2, 1, 151936, 2, true, 1000000.0, true, VisionDims{2, 64, 2, 128, {1}},
                AudioDims{2, 64, 2, 128, 128}, TalkerDims{64, 128, 2, 1, 1, 64, 256}, false};
    throw InputError("unknown synthetic shape '" + name
                     + "' (expected qwen2.5-7b, qwen2.5-omni-7b, qwen2.5-omni-3b, test-wide or test-omni)");
}

json configOf(const Shape& s, int layers)
{
    return {{"architectures", {"Qwen2ForCausalLM"}},
            {"model_type", "qwen2"},
            {"hidden_size", s.hidden},
            {"intermediate_size", s.inter},
            {"num_hidden_layers", layers},
            {"num_attention_heads", s.heads},
            {"num_key_value_heads", s.kvHeads},
            {"vocab_size", s.vocab},
            {"max_position_embeddings", 32768},
            {"rope_theta", s.ropeTheta},
            {"rms_norm_eps", 1e-6},
            {"hidden_act", "silu"},
            {"tie_word_embeddings", false},
            {"use_sliding_window", false},
            {"sliding_window", 131072},
            {"bos_token_id", 151643},
            {"eos_token_id", 151643},
            {"torch_dtype", "bfloat16"},
            {"morphoquant_synthetic", "random weights with outlier channels, written by morphoquant-cli make-synthetic"}};
}

using AddTensor = std::function<void(const std::string&, std::vector<int64_t>, DType)>;

// Qwen2 decoder layers 0..layers-1 under `prefix` (the thinker's decoder, the talker): RMSNorms,
// q/k/v with biases, o_proj and the SwiGLU MLP without.
void addQwen2Layers(const std::function<void(const std::string&, std::vector<int64_t>)>& add,
                    const std::string& prefix, int64_t layers, int64_t hidden, int64_t qOut, int64_t kvOut,
                    int64_t inter)
{
    for (int64_t l = 0; l < layers; ++l) {
        const std::string p = prefix + std::to_string(l) + ".";
        add(p + "input_layernorm.weight", {hidden});
        add(p + "self_attn.q_proj.weight", {qOut, hidden});
        add(p + "self_attn.q_proj.bias", {qOut});
        add(p + "self_attn.k_proj.weight", {kvOut, hidden});
        add(p + "self_attn.k_proj.bias", {kvOut});
        add(p + "self_attn.v_proj.weight", {kvOut, hidden});
        add(p + "self_attn.v_proj.bias", {kvOut});
        add(p + "self_attn.o_proj.weight", {hidden, qOut});
        add(p + "post_attention_layernorm.weight", {hidden});
        add(p + "mlp.gate_proj.weight", {inter, hidden});
        add(p + "mlp.up_proj.weight", {inter, hidden});
        add(p + "mlp.down_proj.weight", {hidden, inter});
    }
}

// The talker: thinker states projected to its width, a Qwen2 decoder, the codec head.
void addTalker(const Shape& s, const AddTensor& addAs)
{
    auto add = [&](const std::string& n, std::vector<int64_t> shape) { addAs(n, std::move(shape), DType::BF16); };
    const TalkerDims& t = s.talker;
    const int64_t q = t.heads * t.headDim, kv = t.kvHeads * t.headDim;
    add("talker.thinker_to_talker_proj.weight", {t.hidden, s.hidden});
    add("talker.thinker_to_talker_proj.bias", {t.hidden});
    add("talker.model.embed_tokens.weight", {t.vocab, s.hidden});
    addQwen2Layers(add, "talker.model.layers.", t.layers, t.hidden, q, kv, t.inter);
    add("talker.model.norm.weight", {t.hidden});
    add("talker.codec_head.weight", {t.vocab, t.hidden});
}

// token2wav (float32 in the released files): the DiT (with its ECAPA-TDNN speaker encoder) and
// the BigVGAN vocoder, carried through untouched by every stage; the layout follows the public
// loaders of the released checkpoints (22 DiT blocks of 1024, BigVGAN 1536 -> 24 channels).
void addToken2Wav(const Shape& s, const AddTensor& addAs)
{
    auto add = [&](const std::string& n, std::vector<int64_t> shape) { addAs(n, std::move(shape), DType::F32); };
    const std::string B = "token2wav.code2wav_bigvgan_model.";
    if (!s.fullToken2Wav) { // tests: one tensor of each part
        add("token2wav.code2wav_dit_model.proj_out.weight", {8, 16});
        add(B + "conv_pre.weight", {16, 8, 7});
        return;
    }
    const std::string P = "token2wav.code2wav_dit_model.";
    add(P + "time_embed.time_mlp.0.weight", {1024, 256});
    add(P + "time_embed.time_mlp.0.bias", {1024});
    add(P + "time_embed.time_mlp.2.weight", {1024, 1024});
    add(P + "time_embed.time_mlp.2.bias", {1024});
    add(P + "text_embed.codec_embed.weight", {8194, 512});
    add(P + "input_embed.proj.weight", {1024, 912});
    add(P + "input_embed.proj.bias", {1024});
    const std::string S = P + "input_embed.spk_encoder.";
    auto conv = [&](const std::string& name, int64_t out, int64_t in, int64_t k) {
        add(name + ".weight", {out, in, k});
        add(name + ".bias", {out});
    };
    conv(S + "blocks.0.conv", 256, 80, 5);
    for (int b = 1; b <= 3; ++b) {
        const std::string p = S + "blocks." + std::to_string(b) + ".";
        conv(p + "tdnn1.conv", 256, 256, 1);
        conv(p + "res2net_block.blocks.0.conv", 128, 128, 3);
        conv(p + "tdnn2.conv", 256, 256, 1);
        conv(p + "se_block.conv1", 64, 256, 1);
        conv(p + "se_block.conv2", 256, 64, 1);
    }
    conv(S + "mfa.conv", 768, 768, 1);
    conv(S + "asp.tdnn.conv", 64, 2304, 1);
    conv(S + "asp.conv", 768, 64, 1);
    conv(S + "fc", 128, 1536, 1);
    add(P + "rotary_embed.inv_freq", {32});
    for (int l = 0; l < 22; ++l) {
        const std::string p = P + "transformer_blocks." + std::to_string(l) + ".";
        add(p + "attn_norm.linear.weight", {6144, 1024});
        add(p + "attn_norm.linear.bias", {6144});
        for (const char* n : {"to_q", "to_k", "to_v", "to_out.0"}) {
            add(p + "attn." + n + ".weight", {1024, 1024});
            add(p + "attn." + n + ".bias", {1024});
        }
        add(p + "ff.ff.0.weight", {2048, 1024});
        add(p + "ff.ff.0.bias", {2048});
        add(p + "ff.ff.3.weight", {1024, 2048});
        add(p + "ff.ff.3.bias", {1024});
    }
    add(P + "norm_out.linear.weight", {2048, 1024});
    add(P + "norm_out.linear.bias", {2048});
    add(P + "proj_out.weight", {80, 1024});
    add(P + "proj_out.bias", {80});

    conv(B + "conv_pre", 1536, 80, 7);
    const int64_t channels[7] = {1536, 768, 384, 192, 96, 48, 24};
    const int64_t upKernels[6] = {11, 7, 4, 4, 4, 4};
    for (int i = 0; i < 6; ++i) { // ConvTranspose1d: [in, out, k]
        add(B + "ups." + std::to_string(i) + ".0.weight", {channels[i], channels[i + 1], upKernels[i]});
        add(B + "ups." + std::to_string(i) + ".0.bias", {channels[i + 1]});
    }
    const int64_t kernels[3] = {3, 7, 11};
    for (int r = 0; r < 18; ++r) {
        const int64_t c = channels[r / 3 + 1], k = kernels[r % 3];
        const std::string p = B + "resblocks." + std::to_string(r) + ".";
        for (const char* set : {"convs1", "convs2"})
            for (int m = 0; m < 3; ++m)
                conv(p + set + "." + std::to_string(m), c, c, k);
        for (int a = 0; a < 6; ++a) {
            add(p + "activations." + std::to_string(a) + ".act.alpha", {c});
            add(p + "activations." + std::to_string(a) + ".act.beta", {c});
        }
    }
    add(B + "activation_post.act.alpha", {24});
    add(B + "activation_post.act.beta", {24});
    add(B + "conv_post.weight", {1, 24, 7});
}

json omniConfigOf(const Shape& s, int layers)
{
    const auto ids = qwenSpecialTokens();
    auto id = [&](const std::string& tok) {
        for (const auto& [t, i] : ids)
            if (t == tok)
                return i;
        return -1;
    };
    json text = {{"model_type", "qwen2_5_omni_text"}, {"hidden_size", s.hidden}, {"intermediate_size", s.inter},
                 {"num_hidden_layers", layers}, {"num_attention_heads", s.heads},
                 {"num_key_value_heads", s.kvHeads}, {"vocab_size", s.vocab}, {"max_position_embeddings", 32768},
                 {"rope_theta", s.ropeTheta}, {"rms_norm_eps", 1e-6}, {"hidden_act", "silu"},
                 {"tie_word_embeddings", false}, {"use_sliding_window", false}, {"sliding_window", 32768},
                 {"rope_scaling", {{"mrope_section", {16, 24, 24}}, {"rope_type", "default"}, {"type", "default"}}}};
    json vision = {{"model_type", "qwen2_5_omni_vision_encoder"}, {"depth", s.vision.depth},
                   {"hidden_size", s.vision.dim}, {"embed_dim", s.vision.dim}, {"num_heads", s.vision.heads},
                   {"intermediate_size", s.vision.inter}, {"hidden_act", "silu"}, {"in_channels", 3},
                   {"in_chans", 3}, {"patch_size", 14}, {"spatial_patch_size", 14}, {"temporal_patch_size", 2},
                   {"spatial_merge_size", 2}, {"window_size", 112}, {"fullatt_block_indexes", s.vision.fullAttention},
                   {"out_hidden_size", s.hidden}, {"tokens_per_second", 25}};
    json audio = {{"model_type", "qwen2_5_omni_audio_encoder"}, {"num_mel_bins", s.audio.mels},
                  {"d_model", s.audio.dim}, {"encoder_layers", s.audio.layers},
                  {"encoder_attention_heads", s.audio.heads}, {"encoder_ffn_dim", s.audio.ffn},
                  {"activation_function", "gelu"}, {"max_source_positions", 1500}, {"n_window", 100},
                  {"scale_embedding", false}, {"dropout", 0.0}, {"output_dim", s.hidden}};
    json thinker = {{"model_type", "qwen2_5_omni_thinker"},
                    {"architectures", {"Qwen2OmniNaViTThinkerForConditionalGeneration"}},
                    {"text_config", text}, {"vision_config", vision}, {"audio_config", audio},
                    {"pad_token_id", id("<|endoftext|>")}, {"bos_token_id", id("<|im_start|>")},
                    {"eos_token_id", id("<|im_end|>")}, {"audio_token_index", id("<|AUDIO|>")},
                    {"image_token_index", id("<|IMAGE|>")}, {"video_token_index", id("<|VIDEO|>")},
                    {"vision_token_id", id("<|vision_pad|>")}, {"vision_start_token_id", id("<|vision_bos|>")},
                    {"vision_end_token_id", id("<|vision_eos|>")}, {"audio_start_token_id", id("<|audio_bos|>")},
                    {"audio_end_token_id", id("<|audio_eos|>")}, {"position_id_per_seconds", 25},
                    {"seconds_per_chunk", 2}, {"user_token_id", 872}};
    const TalkerDims& t = s.talker;
    json talker = {{"model_type", "qwen2_5_omni_talker"}, {"architectures", {"Qwen2OmniTalkerForConditionalGeneration"}},
                   {"hidden_size", t.hidden}, {"embedding_size", s.hidden}, {"head_dim", t.headDim},
                   {"intermediate_size", t.inter}, {"num_hidden_layers", t.layers},
                   {"num_attention_heads", t.heads}, {"num_key_value_heads", t.kvHeads}, {"vocab_size", t.vocab},
                   {"rope_theta", 1000000.0}, {"rms_norm_eps", 1e-6}, {"hidden_act", "silu"},
                   {"rope_scaling",
                    {{"mrope_section", t.headDim == 64 ? json{16, 16, 0} : json{16, 24, 24}}, {"type", "default"}}}};
    json token2wav = {{"model_type", "qwen2_5_omni_token2wav"}};
    return {{"architectures", {"Qwen2_5OmniModel"}},
            {"model_type", "qwen2_5_omni"},
            {"torch_dtype", "bfloat16"},
            {"enable_audio_output", true},
            {"thinker_config", thinker},
            {"talker_config", talker},
            {"token2wav_config", token2wav},
            {"morphoquant_synthetic", "random weights with outlier channels, written by morphoquant-cli make-synthetic"}};
}

// The thinker's vision and audio encoders (QWEN25_OMNI.md, section 2), talker and token2wav.
void addOmniParts(const Shape& s, const AddTensor& addAs)
{
    auto add = [&](const std::string& n, std::vector<int64_t> shape) { addAs(n, std::move(shape), DType::BF16); };
    const std::string v = "thinker.visual.";
    const int64_t vd = s.vision.dim, vi = s.vision.inter;
    add(v + "patch_embed.proj.weight", {vd, 3, 2, 14, 14});
    for (int64_t b = 0; b < s.vision.depth; ++b) {
        const std::string p = v + "blocks." + std::to_string(b) + ".";
        add(p + "norm1.weight", {vd});
        add(p + "norm2.weight", {vd});
        for (const char* n : {"q", "k", "v", "proj"}) {
            add(p + "attn." + n + ".weight", {vd, vd});
            add(p + "attn." + n + ".bias", {vd});
        }
        for (const char* n : {"gate_proj", "up_proj"}) {
            add(p + "mlp." + n + ".weight", {vi, vd});
            add(p + "mlp." + n + ".bias", {vi});
        }
        add(p + "mlp.down_proj.weight", {vd, vi});
        add(p + "mlp.down_proj.bias", {vd});
    }
    add(v + "merger.ln_q.weight", {vd});
    add(v + "merger.mlp.0.weight", {4 * vd, 4 * vd});
    add(v + "merger.mlp.0.bias", {4 * vd});
    add(v + "merger.mlp.2.weight", {s.hidden, 4 * vd});
    add(v + "merger.mlp.2.bias", {s.hidden});

    const std::string a = "thinker.audio_tower.";
    const int64_t ad = s.audio.dim, af = s.audio.ffn;
    add(a + "conv1.weight", {ad, s.audio.mels, 3});
    add(a + "conv1.bias", {ad});
    add(a + "conv2.weight", {ad, ad, 3});
    add(a + "conv2.bias", {ad});
    for (int64_t l = 0; l < s.audio.layers; ++l) {
        const std::string p = a + "layers." + std::to_string(l) + ".";
        for (const char* n : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
            add(p + "self_attn." + n + ".weight", {ad, ad});
            if (std::string(n) != "k_proj") // Whisper's k_proj has no bias
                add(p + "self_attn." + n + ".bias", {ad});
        }
        for (const char* n : {"self_attn_layer_norm", "final_layer_norm"}) {
            add(p + n + ".weight", {ad});
            add(p + n + ".bias", {ad});
        }
        add(p + "fc1.weight", {af, ad});
        add(p + "fc1.bias", {af});
        add(p + "fc2.weight", {ad, af});
        add(p + "fc2.bias", {ad});
    }
    add(a + "ln_post.weight", {ad});
    add(a + "ln_post.bias", {ad});
    add(a + "proj.weight", {s.hidden, ad});
    add(a + "proj.bias", {s.hidden});
    add(a + "audio_bos_eos_token.weight", {2, s.hidden});

    addTalker(s, addAs);
    addToken2Wav(s, addAs);
}

// A deterministic test picture: colour gradients with a few bright blocks and noise.
std::string pngImage(int w, int h, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> noise(-12, 12);
    std::vector<unsigned char> px(size_t(w) * size_t(h) * 3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            unsigned char* p = &px[(size_t(y) * size_t(w) + size_t(x)) * 3];
            const bool block = ((x / 32) + (y / 32)) % 5 == 0;
            const int r = block ? 240 : 255 * x / std::max(1, w - 1);
            const int g = block ? 230 : 255 * y / std::max(1, h - 1);
            const int b = 128 + int(100 * std::sin(0.05 * (x + y)));
            p[0] = (unsigned char)std::clamp(r + noise(rng), 0, 255);
            p[1] = (unsigned char)std::clamp(g + noise(rng), 0, 255);
            p[2] = (unsigned char)std::clamp(b + noise(rng), 0, 255);
        }
    std::string out;
    auto sink = [](void* ctx, void* data, int size) {
        static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), size_t(size));
    };
    if (!stbi_write_png_to_func(sink, &out, w, h, 3, px.data(), w * 3))
        throw Error("cannot encode a synthetic PNG image");
    return out;
}

// A 16 kHz mono 16-bit PCM WAV: a few tones with a slow glide and some noise (speech-like
// energy in the mel bands the audio encoder sees).
std::string wavAudio(double seconds, uint64_t seed)
{
    const int rate = 16000;
    const int64_t n = int64_t(seconds * rate);
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> noise(0.0, 0.02);
    std::string data(size_t(n) * 2, '\0');
    for (int64_t i = 0; i < n; ++i) {
        const double t = double(i) / rate;
        const double f = 220.0 + 180.0 * std::sin(2.0 * M_PI * 0.5 * t);
        const double env = 0.5 + 0.5 * std::sin(2.0 * M_PI * 3.0 * t);
        const double x = env * (0.3 * std::sin(2.0 * M_PI * f * t) + 0.15 * std::sin(2.0 * M_PI * 2.7 * f * t)) +
                         noise(rng);
        const int16_t v = int16_t(std::clamp(x, -1.0, 1.0) * 32767.0);
        data[size_t(2 * i)] = char(v & 0xff);
        data[size_t(2 * i + 1)] = char((v >> 8) & 0xff);
    }
    auto u32 = [](uint32_t v) { return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; };
    auto u16 = [](uint16_t v) { return std::string{char(v), char(v >> 8)}; };
    return "RIFF" + u32(uint32_t(36 + data.size())) + "WAVE" + "fmt " + u32(16) + u16(1) + u16(1) + u32(rate) +
           u32(rate * 2) + u16(2) + u16(16) + "data" + u32(uint32_t(data.size())) + data;
}

// manifest.jsonl: text, image, audio, image + audio and video lines in turn over media/.
void writeOmniManifest(const std::string& dir, int lines, uint64_t seed)
{
    namespace fs = std::filesystem;
    fs::create_directories(dir + "/media/video");
    writeFileAtomic(dir + "/media/image_0.png", pngImage(224, 224, seed + 10));
    writeFileAtomic(dir + "/media/image_1.png", pngImage(448, 336, seed + 11));
    for (int f = 0; f < 4; ++f)
        writeFileAtomic(dir + "/media/video/frame_" + std::to_string(f) + ".png", pngImage(224, 224, seed + 20 + f));
    writeFileAtomic(dir + "/media/audio_0.wav", wavAudio(3.0, seed + 30));
    writeFileAtomic(dir + "/media/audio_1.wav", wavAudio(2.0, seed + 31));
    const char* texts[] = {"the cat sat on the mat and looked at the rain outside",
                           "describe what you see in this picture",
                           "what is said in this recording?",
                           "how does the sound relate to the picture?",
                           "what happens in this clip?"};
    std::string out;
    for (int i = 0; i < lines; ++i) {
        json j;
        const int kind = i % 5;
        if (kind == 1)
            j["image"] = i % 2 ? "media/image_1.png" : "media/image_0.png";
        if (kind == 2)
            j["audio"] = i % 2 ? "media/audio_1.wav" : "media/audio_0.wav";
        if (kind == 3) {
            j["image"] = "media/image_0.png";
            j["audio"] = "media/audio_1.wav";
        }
        if (kind == 4)
            j["video"] = "media/video";
        j["text"] = texts[kind];
        out += j.dump() + "\n";
    }
    writeFileAtomic(dir + "/manifest.jsonl", out);
}

void writeTokens(const std::string& path, int sequences, int length, int64_t vocab, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    // Zipf-like ids (a few frequent tokens, a long tail), as text has.
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::string out;
    for (int i = 0; i < sequences; ++i) {
        out += "{\"input_ids\": [";
        for (int t = 0; t < length; ++t) {
            const int64_t id = std::min<int64_t>(vocab - 1, int64_t(std::pow(double(vocab), u(rng))) - 1);
            out += (t ? ", " : "") + std::to_string(std::max<int64_t>(0, id));
        }
        out += "]}\n";
    }
    writeFileAtomic(path, out);
}

} // namespace

std::vector<TensorSpec> syntheticTensors(const SyntheticSpec& spec)
{
    const Shape s = shapeOf(spec.shape);
    const int layers = spec.layers > 0 ? spec.layers : s.layers;
    const int64_t hd = s.hidden / s.heads;
    const int64_t qOut = s.heads * hd, kvOut = s.kvHeads * hd;
    // Tensor list in network order: embedding, layers, final norm, lm_head (Omni: under
    // "thinker.", then the encoders, talker and token2wav).
    std::vector<TensorSpec> specs;
    auto add = [&](const std::string& name, std::vector<int64_t> shape) {
        specs.push_back(TensorSpec{name, DType::BF16, std::move(shape)});
    };
    const std::string pre = s.omni ? "thinker." : "";
    add(pre + "model.embed_tokens.weight", {s.vocab, s.hidden});
    addQwen2Layers(add, pre + "model.layers.", layers, s.hidden, qOut, kvOut, s.inter);
    add(pre + "model.norm.weight", {s.hidden});
    add(pre + "lm_head.weight", {s.vocab, s.hidden});
    if (s.omni)
        addOmniParts(s, [&](const std::string& name, std::vector<int64_t> shape, DType dtype) {
            specs.push_back(TensorSpec{name, dtype, std::move(shape)});
        });

    return specs;
}

SyntheticSummary writeSynthetic(const std::string& outDir, const SyntheticSpec& spec, bool overwrite,
                                const ProgressSink& progress)
{
    const Shape s = shapeOf(spec.shape);
    const int layers = spec.layers > 0 ? spec.layers : s.layers;
    if (spec.calibSequences < 1 || spec.evalSequences < 1 || spec.sequenceLength < 2)
        throw InputError("synthetic data needs at least one sequence of at least 2 tokens");
    checkFolderTarget(outDir, overwrite);
    const std::vector<TensorSpec> specs = syntheticTensors(spec);
    const std::string pre = s.omni ? "thinker." : "";
    uint64_t total = 0;
    for (const TensorSpec& t : specs)
        total += t.bytes();

    at::Generator gen = at::detail::createCPUGenerator(spec.seed);
    // Outlier channels: fixed per seed, a few per model.
    std::mt19937_64 pick(spec.seed * 7919 + 17);
    std::vector<int64_t> hiddenOutliers, interOutliers;
    for (int i = 0; i < 4; ++i) {
        hiddenOutliers.push_back(int64_t(pick() % uint64_t(s.hidden)));
        interOutliers.push_back(int64_t(pick() % uint64_t(s.inter)));
    }
    const std::string decoderLayers = pre + "model.layers.";
    auto make = [&](const TensorSpec& t) {
        const std::string& name = t.name;
        auto ends = [&](const char* suffix) {
            const std::string sfx(suffix);
            return name.size() >= sfx.size() && name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0;
        };
        const bool decoder = name.rfind(decoderLayers, 0) == 0;
        // Norms (RMSNorm and LayerNorm weights) start at 1, LayerNorm biases at 0.
        const bool norm = t.shape.size() == 1
                          && (name.find("norm") != std::string::npos || name.find(".ln_") != std::string::npos);
        at::Tensor x;
        if (norm && ends(".weight")) {
            x = at::ones(t.shape, at::kFloat);
            if (decoder)
                for (int64_t c : hiddenOutliers)
                    x[c] = 8.0;
        } else if (norm && ends(".bias")) {
            x = at::zeros(t.shape, at::kFloat);
        } else {
            x = at::normal(0.0, 0.02, t.shape, gen);
            if (decoder && ends("mlp.up_proj.weight"))
                for (int64_t c : interOutliers)
                    x[c].mul_(10.0);
        }
        return x.to(t.dtype == DType::F32 ? at::kFloat : at::kBFloat16);
    };

    SyntheticSummary sum;
    sum.layers = layers;
    sum.dir = writeFolderAtomic(outDir, overwrite, [&](const std::string& dir) {
        uint64_t written = 0;
        sum.shards = writeShardedCheckpoint(dir, specs, spec.shardBytes, true, {{"format", "pt"}},
                                            [&](const TensorSpec& t, SafetensorsStreamWriter& w) {
                                                w.write(t.name, make(t));
                                                written += t.bytes();
                                                report(progress, "write", double(written) / double(total), t.name);
                                            });
        // Token ids stay below the special tokens (151643 and up) of the Omni vocabulary.
        const int64_t ids = s.omni ? std::min<int64_t>(s.vocab, 151643) : s.vocab;
        writeTokens(dir + "/calibration.jsonl", spec.calibSequences, spec.sequenceLength, ids, spec.seed + 1);
        writeTokens(dir + "/evaluation.jsonl", spec.evalSequences, spec.sequenceLength, ids, spec.seed + 2);
        if (s.omni) {
            writeFileAtomic(dir + "/config.json", omniConfigOf(s, layers).dump(2) + "\n");
            writeFileAtomic(dir + "/tokenizer.json", byteLevelTokenizerJson(qwenSpecialTokens()));
            writeFileAtomic(dir + "/tokenizer_config.json",
                            json({{"model_max_length", 32768}, {"tokenizer_class", "Qwen2Tokenizer"},
                                  {"eos_token", "<|im_end|>"}, {"pad_token", "<|endoftext|>"}})
                                    .dump(2) + "\n");
            writeOmniManifest(dir, spec.calibSequences, spec.seed + 3);
        } else {
            writeFileAtomic(dir + "/config.json", configOf(s, layers).dump(2) + "\n");
            writeFileAtomic(dir + "/tokenizer.json", tinyTokenizerJson());
        }
    });
    sum.tensors = int64_t(specs.size());
    for (const TensorSpec& t : specs) {
        int64_t e = 1;
        for (int64_t d : t.shape)
            e *= d;
        sum.parameters += e;
    }
    sum.bytes = int64_t(total);
    return sum;
}

} // namespace mq::core
