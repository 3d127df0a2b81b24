#include "model/tiny_omni.h"

#include "io/atomic_file.h"
#include "io/safetensors.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <map>

namespace mq::core {

namespace {

using nlohmann::json;

// Text sizes: hidden 64, 4 heads of 16 (mrope sections 2+3+3 = 16/2), 2 KV heads.
constexpr int kHidden = 64, kInter = 128, kLayers = 2, kHeads = 4, kKvHeads = 2, kHeadDim = 16, kVocab = 512;
constexpr int kVisDim = 32, kVisHeads = 2, kVisInter = 64, kVisDepth = 2;
constexpr int kAudDim = 32, kAudHeads = 2, kAudFfn = 64, kAudLayers = 2, kMels = 128;

// Special tokens at the top of the tiny vocabulary, ids in this order from kFirstSpecial.
constexpr int kFirstSpecial = 500;
const char* const kSpecials[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|AUDIO|>", "<|audio_bos|>",
                                 "<|audio_eos|>", "<|vision_bos|>", "<|vision_eos|>", "<|vision_pad|>",
                                 "<|IMAGE|>", "<|VIDEO|>"};
int specialId(const std::string& tok)
{
    for (int i = 0; i < int(std::size(kSpecials)); ++i)
        if (tok == kSpecials[i])
            return kFirstSpecial + i;
    return -1;
}

json tinyConfig()
{
    json text = {{"model_type", "qwen2_5_omni_text"}, {"hidden_size", kHidden}, {"intermediate_size", kInter},
                 {"num_hidden_layers", kLayers}, {"num_attention_heads", kHeads},
                 {"num_key_value_heads", kKvHeads}, {"vocab_size", kVocab}, {"max_position_embeddings", 32768},
                 {"rope_theta", 1000000.0}, {"rms_norm_eps", 1e-6}, {"hidden_act", "silu"},
                 {"tie_word_embeddings", false}, {"use_sliding_window", false},
                 {"rope_scaling", {{"mrope_section", {2, 3, 3}}, {"rope_type", "default"}, {"type", "default"}}}};
    json vision = {{"model_type", "qwen2_5_omni_vision_encoder"}, {"depth", kVisDepth}, {"hidden_size", kVisDim},
                   {"num_heads", kVisHeads}, {"intermediate_size", kVisInter}, {"hidden_act", "silu"},
                   {"in_channels", 3}, {"in_chans", 3}, {"patch_size", 14}, {"spatial_patch_size", 14},
                   {"temporal_patch_size", 2}, {"spatial_merge_size", 2}, {"window_size", 112},
                   {"fullatt_block_indexes", {1}}, {"out_hidden_size", kHidden}, {"tokens_per_second", 25}};
    json audio = {{"model_type", "qwen2_5_omni_audio_encoder"}, {"num_mel_bins", kMels}, {"d_model", kAudDim},
                  {"encoder_layers", kAudLayers}, {"encoder_attention_heads", kAudHeads},
                  {"encoder_ffn_dim", kAudFfn}, {"activation_function", "gelu"}, {"max_source_positions", 1500},
                  {"n_window", 100}, {"scale_embedding", false}, {"dropout", 0.0}, {"output_dim", kHidden}};
    json thinker = {{"model_type", "qwen2_5_omni_thinker"},
                    {"architectures", {"Qwen2OmniNaViTThinkerForConditionalGeneration"}},
                    {"text_config", text}, {"vision_config", vision}, {"audio_config", audio},
                    {"pad_token_id", specialId("<|endoftext|>")}, {"bos_token_id", specialId("<|im_start|>")},
                    {"eos_token_id", specialId("<|im_end|>")}, {"audio_token_index", specialId("<|AUDIO|>")},
                    {"image_token_index", specialId("<|IMAGE|>")}, {"video_token_index", specialId("<|VIDEO|>")},
                    {"vision_token_id", specialId("<|vision_pad|>")},
                    {"vision_start_token_id", specialId("<|vision_bos|>")},
                    {"vision_end_token_id", specialId("<|vision_eos|>")},
                    {"audio_start_token_id", specialId("<|audio_bos|>")},
                    {"audio_end_token_id", specialId("<|audio_eos|>")}, {"position_id_per_seconds", 25},
                    {"seconds_per_chunk", 2}, {"user_token_id", 'u'}};
    json talker = {{"model_type", "qwen2_5_omni_talker"}, {"architectures", {"Qwen2OmniTalkerForConditionalGeneration"}},
                   {"hidden_size", 32}, {"embedding_size", kHidden}, {"vocab_size", 64}};
    json token2wav = {{"model_type", "qwen2_5_omni_token2wav"}};
    return {{"architectures", {"Qwen2_5OmniModel"}}, {"model_type", "qwen2_5_omni"}, {"torch_dtype", "bfloat16"},
            {"enable_audio_output", true}, {"thinker_config", thinker}, {"talker_config", talker},
            {"token2wav_config", token2wav}};
}

// GPT-2 byte-to-unicode: printable bytes stand for themselves, the rest map to U+0100 onwards.
std::string byteSymbol(int b)
{
    auto printable = [](int c) { return (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255); };
    int cp = b;
    if (!printable(b)) {
        int n = 0;
        for (int c = 0; c < b; ++c)
            n += printable(c) ? 0 : 1;
        cp = 256 + n;
    }
    std::string s;
    if (cp < 0x80) {
        s += char(cp);
    } else {
        s += char(0xC0 | (cp >> 6));
        s += char(0x80 | (cp & 0x3F));
    }
    return s;
}

json byteLevelTokenizer(const std::vector<std::pair<std::string, int>>& specials)
{
    json vocab = json::object();
    for (int b = 0; b < 256; ++b)
        vocab[byteSymbol(b)] = b;
    const std::string G = byteSymbol(' '); // "Ġ"
    const std::vector<std::pair<std::string, std::string>> merges = {
        {G, "t"}, {"h", "e"}, {"i", "n"}, {G, "a"}, {"e", "r"}, {"o", "n"}, {G + "t", "he"}, {"a", "n"},
        {G, "s"}, {G, "w"}, {"r", "e"}, {"a", "t"}, {"o", "u"}, {G, "c"}, {"e", "n"}, {"i", "s"}};
    json mergeList = json::array();
    int next = 256;
    for (const auto& [a, b] : merges) {
        mergeList.push_back(a + " " + b);
        vocab[a + b] = next++;
    }
    json added = json::array();
    for (const auto& [tok, id] : specials)
        added.push_back({{"id", id}, {"content", tok}, {"single_word", false}, {"lstrip", false},
                         {"rstrip", false}, {"normalized", false}, {"special", true}});
    const char* pattern = R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    return {{"version", "1.0"},
            {"truncation", nullptr},
            {"padding", nullptr},
            {"added_tokens", added},
            {"normalizer", {{"type", "NFC"}}},
            {"pre_tokenizer",
             {{"type", "Sequence"},
              {"pretokenizers",
               {{{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
                {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}}},
            {"post_processor", nullptr},
            {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}},
            {"model",
             {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", ""},
              {"end_of_word_suffix", ""}, {"fuse_unk", false}, {"byte_fallback", false}, {"vocab", vocab},
              {"merges", mergeList}}}};
}

class TensorMaker {
public:
    explicit TensorMaker(uint64_t seed) : m_gen(at::detail::createCPUGenerator(seed)) {}
    at::Tensor normal(at::IntArrayRef shape) { return at::normal(0.0, 0.02, shape, m_gen).to(at::kBFloat16); }
    static at::Tensor ones(at::IntArrayRef shape) { return at::ones(shape, at::kBFloat16); }
    static at::Tensor zeros(at::IntArrayRef shape) { return at::zeros(shape, at::kBFloat16); }

private:
    at::Generator m_gen;
};

std::map<std::string, at::Tensor> tinyTensors(uint64_t seed)
{
    TensorMaker m(seed);
    std::map<std::string, at::Tensor> t;
    const std::string tm = "thinker.model.";
    t[tm + "embed_tokens.weight"] = m.normal({kVocab, kHidden});
    t[tm + "norm.weight"] = TensorMaker::ones({kHidden});
    t["thinker.lm_head.weight"] = m.normal({kVocab, kHidden});
    for (int i = 0; i < kLayers; ++i) {
        const std::string p = tm + "layers." + std::to_string(i) + ".";
        t[p + "input_layernorm.weight"] = TensorMaker::ones({kHidden});
        t[p + "post_attention_layernorm.weight"] = TensorMaker::ones({kHidden});
        t[p + "self_attn.q_proj.weight"] = m.normal({kHeads * kHeadDim, kHidden});
        t[p + "self_attn.q_proj.bias"] = m.normal({kHeads * kHeadDim});
        for (const char* kv : {"k_proj", "v_proj"}) {
            t[p + "self_attn." + kv + ".weight"] = m.normal({kKvHeads * kHeadDim, kHidden});
            t[p + "self_attn." + kv + ".bias"] = m.normal({kKvHeads * kHeadDim});
        }
        t[p + "self_attn.o_proj.weight"] = m.normal({kHidden, kHeads * kHeadDim});
        t[p + "mlp.gate_proj.weight"] = m.normal({kInter, kHidden});
        t[p + "mlp.up_proj.weight"] = m.normal({kInter, kHidden});
        t[p + "mlp.down_proj.weight"] = m.normal({kHidden, kInter});
    }
    const std::string v = "thinker.visual.";
    t[v + "patch_embed.proj.weight"] = m.normal({kVisDim, 3, 2, 14, 14});
    for (int i = 0; i < kVisDepth; ++i) {
        const std::string p = v + "blocks." + std::to_string(i) + ".";
        t[p + "norm1.weight"] = TensorMaker::ones({kVisDim});
        t[p + "norm2.weight"] = TensorMaker::ones({kVisDim});
        for (const char* n : {"q", "k", "v", "proj"}) {
            t[p + "attn." + n + ".weight"] = m.normal({kVisDim, kVisDim});
            t[p + "attn." + n + ".bias"] = m.normal({kVisDim});
        }
        for (const char* n : {"gate_proj", "up_proj"}) {
            t[p + "mlp." + n + ".weight"] = m.normal({kVisInter, kVisDim});
            t[p + "mlp." + n + ".bias"] = m.normal({kVisInter});
        }
        t[p + "mlp.down_proj.weight"] = m.normal({kVisDim, kVisInter});
        t[p + "mlp.down_proj.bias"] = m.normal({kVisDim});
    }
    t[v + "merger.ln_q.weight"] = TensorMaker::ones({kVisDim});
    t[v + "merger.mlp.0.weight"] = m.normal({4 * kVisDim, 4 * kVisDim});
    t[v + "merger.mlp.0.bias"] = m.normal({4 * kVisDim});
    t[v + "merger.mlp.2.weight"] = m.normal({kHidden, 4 * kVisDim});
    t[v + "merger.mlp.2.bias"] = m.normal({kHidden});
    const std::string a = "thinker.audio_tower.";
    t[a + "conv1.weight"] = m.normal({kAudDim, kMels, 3});
    t[a + "conv1.bias"] = m.normal({kAudDim});
    t[a + "conv2.weight"] = m.normal({kAudDim, kAudDim, 3});
    t[a + "conv2.bias"] = m.normal({kAudDim});
    for (int i = 0; i < kAudLayers; ++i) {
        const std::string p = a + "layers." + std::to_string(i) + ".";
        for (const char* n : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
            t[p + "self_attn." + n + ".weight"] = m.normal({kAudDim, kAudDim});
            if (std::string(n) != "k_proj") // Whisper's k_proj has no bias
                t[p + "self_attn." + n + ".bias"] = m.normal({kAudDim});
        }
        for (const char* n : {"self_attn_layer_norm", "final_layer_norm"}) {
            t[p + n + ".weight"] = TensorMaker::ones({kAudDim});
            t[p + n + ".bias"] = TensorMaker::zeros({kAudDim});
        }
        t[p + "fc1.weight"] = m.normal({kAudFfn, kAudDim});
        t[p + "fc1.bias"] = m.normal({kAudFfn});
        t[p + "fc2.weight"] = m.normal({kAudDim, kAudFfn});
        t[p + "fc2.bias"] = m.normal({kAudDim});
    }
    t[a + "ln_post.weight"] = TensorMaker::ones({kAudDim});
    t[a + "ln_post.bias"] = TensorMaker::zeros({kAudDim});
    t[a + "proj.weight"] = m.normal({kHidden, kAudDim});
    t[a + "proj.bias"] = m.normal({kHidden});
    t[a + "audio_bos_eos_token.weight"] = m.normal({2, kHidden});
    // Talker and token2wav are carried along untouched; a token tensor of each is enough.
    t["talker.model.embed_tokens.weight"] = m.normal({64, 32});
    t["talker.codec_head.weight"] = m.normal({64, 32});
    t["token2wav.code2wav_bigvgan_model.conv_pre.weight"] = m.normal({16, 8, 7});
    return t;
}

} // namespace

std::string tinyTokenizerJson()
{
    std::vector<std::pair<std::string, int>> specials;
    for (const char* tok : kSpecials)
        specials.emplace_back(tok, specialId(tok));
    return byteLevelTokenizer(specials).dump(2) + "\n";
}

std::string byteLevelTokenizerJson(const std::vector<std::pair<std::string, int>>& specials)
{
    return byteLevelTokenizer(specials).dump(2) + "\n";
}

std::vector<std::pair<std::string, int>> qwenSpecialTokens()
{
    // Qwen2.5-Omni's ids (QWEN25_OMNI.md, thinker_config).
    return {{"<|endoftext|>", 151643}, {"<|im_start|>", 151644}, {"<|im_end|>", 151645}, {"<|AUDIO|>", 151646},
            {"<|audio_bos|>", 151647}, {"<|audio_eos|>", 151648}, {"<|vision_bos|>", 151652},
            {"<|vision_eos|>", 151653}, {"<|vision_pad|>", 151654}, {"<|IMAGE|>", 151655}, {"<|VIDEO|>", 151656}};
}

TinyOmniSummary writeTinyOmni(const std::string& outDir, uint64_t seed, bool overwrite)
{
    const auto tensors = tinyTensors(seed);
    // Shard 1: the thinker's decoder and lm_head; shard 2: encoders, talker, token2wav.
    std::map<std::string, at::Tensor> shard[2];
    for (const auto& [name, t] : tensors)
        shard[name.rfind("thinker.model.", 0) == 0 || name.rfind("thinker.lm_head.", 0) == 0 ? 0 : 1][name] = t;
    const std::string files[2] = {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};
    TinyOmniSummary sum;
    json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", json::object()}};
    int64_t bytes = 0;
    for (int s = 0; s < 2; ++s)
        for (const auto& [name, t] : shard[s]) {
            index["weight_map"][name] = files[s];
            bytes += t.numel() * int64_t(t.element_size());
            sum.parameters += t.numel();
        }
    index["metadata"]["total_size"] = bytes;
    sum.dir = writeFolderAtomic(outDir, overwrite, [&](const std::string& dir) {
        for (int s = 0; s < 2; ++s)
            writeSafetensors(dir + "/" + files[s], shard[s], {{"format", "pt"}});
        writeFileAtomic(dir + "/model.safetensors.index.json", index.dump(2) + "\n");
        writeFileAtomic(dir + "/config.json", tinyConfig().dump(2) + "\n");
        writeFileAtomic(dir + "/tokenizer.json", tinyTokenizerJson());
        writeFileAtomic(dir + "/tokenizer_config.json",
                        json({{"model_max_length", 32768}, {"tokenizer_class", "Qwen2Tokenizer"},
                              {"eos_token", "<|im_end|>"}, {"pad_token", "<|endoftext|>"}})
                                .dump(2) + "\n");
    });
    sum.tensors = int64_t(tensors.size());
    sum.shards = 2;
    return sum;
}

} // namespace mq::core
