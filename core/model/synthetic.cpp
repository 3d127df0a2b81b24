#include "model/synthetic.h"

#include "common/error.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "model/tiny_omni.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <random>

namespace mq::core {

namespace {

using nlohmann::json;

struct Shape {
    int64_t hidden, inter, heads, kvHeads, vocab;
    int layers;
    bool bias;
    double ropeTheta;
};

Shape shapeOf(const std::string& name)
{
    // Qwen2.5-7B(-Instruct) config.json values.
    if (name == "qwen2.5-7b")
        return {3584, 18944, 28, 4, 152064, 28, true, 1000000.0};
    if (name == "test-wide")
        return {256, 1024, 4, 2, 1024, 2, true, 1000000.0};
    throw InputError("unknown synthetic shape '" + name
                     + "' (expected qwen2.5-7b or test-wide; the Qwen2.5-Omni layout is written by make-tiny-omni"
                       " at tiny sizes, not yet at 3B/7B sizes)");
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

std::vector<std::string> syntheticShapes() { return {"qwen2.5-7b", "test-wide"}; }

SyntheticSummary writeSynthetic(const std::string& outDir, const SyntheticSpec& spec, bool overwrite,
                                const ProgressSink& progress)
{
    const Shape s = shapeOf(spec.shape);
    const int layers = spec.layers > 0 ? spec.layers : s.layers;
    if (spec.calibSequences < 1 || spec.evalSequences < 1 || spec.sequenceLength < 2)
        throw InputError("synthetic data needs at least one sequence of at least 2 tokens");
    checkFolderTarget(outDir, overwrite);
    const int64_t hd = s.hidden / s.heads;
    const int64_t qOut = s.heads * hd, kvOut = s.kvHeads * hd;

    // Tensor list in network order: embedding, layers, final norm, lm_head.
    std::vector<TensorSpec> specs;
    auto add = [&](const std::string& name, std::vector<int64_t> shape) {
        specs.push_back(TensorSpec{name, DType::BF16, std::move(shape)});
    };
    add("model.embed_tokens.weight", {s.vocab, s.hidden});
    for (int l = 0; l < layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        add(p + "input_layernorm.weight", {s.hidden});
        add(p + "self_attn.q_proj.weight", {qOut, s.hidden});
        add(p + "self_attn.q_proj.bias", {qOut});
        add(p + "self_attn.k_proj.weight", {kvOut, s.hidden});
        add(p + "self_attn.k_proj.bias", {kvOut});
        add(p + "self_attn.v_proj.weight", {kvOut, s.hidden});
        add(p + "self_attn.v_proj.bias", {kvOut});
        add(p + "self_attn.o_proj.weight", {s.hidden, qOut});
        add(p + "post_attention_layernorm.weight", {s.hidden});
        add(p + "mlp.gate_proj.weight", {s.inter, s.hidden});
        add(p + "mlp.up_proj.weight", {s.inter, s.hidden});
        add(p + "mlp.down_proj.weight", {s.hidden, s.inter});
    }
    add("model.norm.weight", {s.hidden});
    add("lm_head.weight", {s.vocab, s.hidden});

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
    auto make = [&](const TensorSpec& t) {
        const std::string& name = t.name;
        auto ends = [&](const char* suffix) {
            const std::string sfx(suffix);
            return name.size() >= sfx.size() && name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0;
        };
        at::Tensor x;
        if (ends("layernorm.weight") || name == "model.norm.weight") {
            x = at::ones(t.shape, at::kFloat);
            if (name != "model.norm.weight")
                for (int64_t c : hiddenOutliers)
                    x[c] = 8.0;
        } else if (ends(".bias")) {
            x = at::normal(0.0, 0.02, t.shape, gen);
        } else {
            x = at::normal(0.0, 0.02, t.shape, gen);
            if (ends("mlp.up_proj.weight"))
                for (int64_t c : interOutliers)
                    x[c].mul_(10.0);
        }
        return x.to(at::kBFloat16);
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
        writeFileAtomic(dir + "/config.json", configOf(s, layers).dump(2) + "\n");
        writeFileAtomic(dir + "/tokenizer.json", tinyTokenizerJson());
        writeTokens(dir + "/calibration.jsonl", spec.calibSequences, spec.sequenceLength, s.vocab, spec.seed + 1);
        writeTokens(dir + "/evaluation.jsonl", spec.evalSequences, spec.sequenceLength, s.vocab, spec.seed + 2);
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
