#include "io/hf_config.h"

#include "common/error.h"
#include "io/atomic_file.h"

#include <nlohmann/json.hpp>

#include <limits>

namespace mq::core {

namespace {

using nlohmann::json;

constexpr const char* kSupportedTypes = "llama, qwen2, qwen2_5_omni (its thinker)";

class Reader {
public:
    Reader(const json& j, const std::string& source) : m_j(j), m_source(source) {}

    InputError error(const std::string& key, const std::string& what) const
    {
        return InputError(describe(m_source, "", "\"" + key + "\" " + what));
    }

    // HF configs write null for "not set" (e.g. "head_dim": null); treat it as absent.
    const json* find(const std::string& key) const
    {
        auto it = m_j.find(key);
        return it == m_j.end() || it->is_null() ? nullptr : &*it;
    }

    int requiredInt(const std::string& key) const
    {
        const json* v = find(key);
        if (!v)
            throw error(key, "is missing (required)");
        return toInt(key, *v);
    }

    int optionalInt(const std::string& key, int def) const
    {
        const json* v = find(key);
        return v ? toInt(key, *v) : def;
    }

    double optionalDouble(const std::string& key, double def) const
    {
        const json* v = find(key);
        if (!v)
            return def;
        if (!v->is_number())
            throw error(key, "is " + v->dump() + ", expected a number");
        return v->get<double>();
    }

    bool optionalBool(const std::string& key, bool def) const
    {
        const json* v = find(key);
        if (!v)
            return def;
        if (!v->is_boolean())
            throw error(key, "is " + v->dump() + ", expected true or false");
        return v->get<bool>();
    }

    std::string optionalString(const std::string& key, const std::string& def) const
    {
        const json* v = find(key);
        if (!v)
            return def;
        if (!v->is_string())
            throw error(key, "is " + v->dump() + ", expected a string");
        return v->get<std::string>();
    }

private:
    int toInt(const std::string& key, const json& v) const
    {
        if (!v.is_number_integer())
            throw error(key, "is " + v.dump() + ", expected an integer");
        if (v.is_number_unsigned() ? v.get<uint64_t>() > uint64_t(std::numeric_limits<int>::max())
                                   : (v.get<int64_t>() > std::numeric_limits<int>::max()
                                      || v.get<int64_t>() < std::numeric_limits<int>::min()))
            throw error(key, "is " + v.dump() + ", out of range");
        return v.get<int>();
    }

    const json& m_j;
    const std::string& m_source;
};

} // namespace

const char* architectureName(Architecture a)
{
    switch (a) {
    case Architecture::Llama: return "llama";
    case Architecture::Qwen2: return "qwen2";
    }
    return "?";
}

ModelConfig parseModelConfig(const nlohmann::json& j, const std::string& source)
{
    if (!j.is_object())
        throw InputError(describe(source, "", "config is " + std::string(j.type_name())
                                                  + ", expected a JSON object"));
    const Reader r(j, source);
    ModelConfig c;

    c.modelType = r.optionalString("model_type", "");
    if (c.modelType == "qwen2_5_omni" || c.modelType == "qwen2_5_omni_thinker") {
        // The decoder we run is the thinker's text model; vision, audio, talker and token2wav
        // have their own configs beside it.
        const json* thinker = c.modelType == "qwen2_5_omni" ? r.find("thinker_config") : &j;
        if (!thinker || !thinker->is_object())
            throw r.error("thinker_config", "is missing or not an object (a qwen2_5_omni config has one)");
        auto text = thinker->find("text_config");
        if (text == thinker->end() || !text->is_object())
            throw r.error("thinker_config.text_config", "is missing or not an object");
        ModelConfig t = parseModelConfig(*text, source + " (thinker_config.text_config)");
        t.container = "qwen2_5_omni";
        return t;
    }
    if (c.modelType == "qwen2_5_omni_text") {
        c.arch = Architecture::Qwen2;
        c.attentionBias = true;
    } else if (c.modelType == "llama") {
        c.arch = Architecture::Llama;
        c.attentionBias = r.optionalBool("attention_bias", false);
    } else if (c.modelType == "qwen2") {
        // Qwen2 always has q/k/v biases; its config has no key for it.
        c.arch = Architecture::Qwen2;
        c.attentionBias = true;
    } else if (c.modelType.empty()) {
        throw r.error("model_type", std::string("is missing (supported: ") + kSupportedTypes + ")");
    } else {
        throw r.error("model_type", "is \"" + c.modelType + "\", which is not supported (supported: "
                                        + kSupportedTypes + ")");
    }

    c.hiddenSize = r.requiredInt("hidden_size");
    c.intermediateSize = r.requiredInt("intermediate_size");
    c.numLayers = r.requiredInt("num_hidden_layers");
    c.numHeads = r.requiredInt("num_attention_heads");
    c.vocabSize = r.requiredInt("vocab_size");
    c.numKvHeads = r.optionalInt("num_key_value_heads", c.numHeads);
    c.maxPositions = r.optionalInt("max_position_embeddings", 2048);
    c.rmsNormEps = r.optionalDouble("rms_norm_eps", 1e-6);
    c.ropeTheta = r.optionalDouble("rope_theta", 10000.0);
    c.tieWordEmbeddings = r.optionalBool("tie_word_embeddings", false);
    c.hiddenAct = r.optionalString("hidden_act", "silu");
    c.torchDtype = r.optionalString("torch_dtype", "float32");

    const std::pair<const char*, int> sizes[] = {
        {"hidden_size", c.hiddenSize},           {"intermediate_size", c.intermediateSize},
        {"num_hidden_layers", c.numLayers},      {"num_attention_heads", c.numHeads},
        {"num_key_value_heads", c.numKvHeads},   {"vocab_size", c.vocabSize},
        {"max_position_embeddings", c.maxPositions}};
    for (const auto& [key, value] : sizes) {
        if (value <= 0)
            throw r.error(key, "is " + std::to_string(value) + ", expected a positive integer");
    }

    if (r.find("head_dim")) {
        // Some models (Qwen3, Gemma) decouple head_dim from hidden/heads; honour it as given.
        c.headDim = r.optionalInt("head_dim", 0);
        if (c.headDim <= 0)
            throw r.error("head_dim", "is " + std::to_string(c.headDim) + ", expected a positive integer");
    } else {
        if (c.hiddenSize % c.numHeads != 0)
            throw r.error("hidden_size", "is " + std::to_string(c.hiddenSize)
                                             + ", not divisible by \"num_attention_heads\" "
                                             + std::to_string(c.numHeads)
                                             + " (needed to derive head_dim)");
        c.headDim = c.hiddenSize / c.numHeads;
    }
    if (c.numHeads % c.numKvHeads != 0)
        throw r.error("num_attention_heads", "is " + std::to_string(c.numHeads)
                                                 + ", not a multiple of \"num_key_value_heads\" "
                                                 + std::to_string(c.numKvHeads));
    if (!(c.rmsNormEps > 0.0))
        throw r.error("rms_norm_eps", "is " + std::to_string(c.rmsNormEps) + ", expected > 0");
    if (!(c.ropeTheta > 0.0))
        throw r.error("rope_theta", "is " + std::to_string(c.ropeTheta) + ", expected > 0");
    if (c.hiddenAct != "silu")
        throw r.error("hidden_act", "is \"" + c.hiddenAct + "\", only \"silu\" (SwiGLU) is supported");
    // The decoder implements plain RoPE and Qwen2.5-Omni's multimodal sections; a scaled variant
    // would load and then give wrong logits.
    for (const char* key : {"rope_scaling", "rope_parameters"}) {
        const json* scaling = r.find(key);
        if (!scaling)
            continue;
        const std::string type = scaling->is_object() ? scaling->value("rope_type", scaling->value("type", "default"))
                                                      : std::string("?");
        auto sec = scaling->is_object() ? scaling->find("mrope_section") : scaling->end();
        if (type != "default")
            throw r.error(key, "is " + scaling->dump() + ", only unscaled (\"default\") RoPE is supported");
        if (scaling->is_object() && sec != scaling->end()) {
            int sum = 0;
            if (!sec->is_array() || sec->size() != 3)
                throw r.error(std::string(key) + ".mrope_section", "is " + sec->dump() + ", expected three integers");
            for (const json& v : *sec) {
                if (!v.is_number_integer() || v.get<int>() < 0)
                    throw r.error(std::string(key) + ".mrope_section", "is " + sec->dump() + ", expected three integers");
                c.mropeSection.push_back(v.get<int>());
                sum += v.get<int>();
            }
            if (2 * sum != c.headDim)
                throw r.error(std::string(key) + ".mrope_section", "sums to " + std::to_string(sum)
                                  + ", expected head_dim / 2 = " + std::to_string(c.headDim / 2));
        }
    }
    return c;
}

ModelConfig loadModelConfig(const std::string& configPath)
{
    const std::string text = readTextFile(configPath); // InputError naming the file if missing
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw InputError(describe(configPath, "", std::string("not valid JSON: ") + e.what()));
    }
    return parseModelConfig(j, configPath);
}

std::string tensorPastLastLayer(const std::vector<std::string>& names, const std::string& prefix, int numLayers)
{
    const std::string layersPrefix = prefix + "model.layers.";
    for (const std::string& name : names) {
        if (name.rfind(layersPrefix, 0) != 0)
            continue;
        const size_t dot = name.find('.', layersPrefix.size());
        const std::string idx = name.substr(layersPrefix.size(), dot == std::string::npos ? std::string::npos
                                                                                          : dot - layersPrefix.size());
        if (idx.empty() || idx.find_first_not_of("0123456789") != std::string::npos || idx.size() > 9)
            continue;
        if (std::stoll(idx) >= numLayers)
            return name;
    }
    return "";
}

} // namespace mq::core
