#include "io/session_store.h"

#include <nlohmann/json.hpp>

#include <limits>
#include <string>

#include "common/error.h"
#include "quant/rotation_key.h"

namespace mq::core {

// ---------------------------------------------------------------------------------------------
// Settings as JSON. Keys are snake_case like the HDF5 layout; enums are their names.

namespace {

const char* weightFormatName(WeightFormat f)
{
    switch (f) {
    case WeightFormat::None: return "none";
    case WeightFormat::Int: return "int";
    case WeightFormat::NF4: return "nf4";
    case WeightFormat::NVFP4: return "nvfp4";
    case WeightFormat::MXFP4: return "mxfp4";
    case WeightFormat::HiF4: return "hif4";
    }
    return "none";
}

class JsonReader {
public:
    explicit JsonReader(std::string source) : m_source(std::move(source)) {}

    [[noreturn]] void fail(const std::string& key, const std::string& what) const
    {
        throw InputError(m_source + ": settings key '" + key + "': " + what);
    }
    // Unknown keys are rejected: a misspelt key silently taking its default would run a
    // different experiment than the one asked for.
    void onlyKeys(const nlohmann::json& obj, const std::string& prefix, std::initializer_list<const char*> keys) const
    {
        for (auto it = obj.begin(); it != obj.end(); ++it) {
            bool known = false;
            for (const char* k : keys)
                known = known || it.key() == k;
            if (!known) {
                std::string list;
                for (const char* k : keys)
                    list += std::string(list.empty() ? "" : ", ") + k;
                fail(prefix + it.key(), "unknown key; expected one of " + list);
            }
        }
    }
    static const nlohmann::json* find(const nlohmann::json& obj, const char* key)
    {
        auto it = obj.find(key);
        return it == obj.end() ? nullptr : &*it;
    }
    void get(const nlohmann::json& obj, const std::string& prefix, const char* key, std::string& out) const
    {
        if (const auto* v = find(obj, key)) {
            if (!v->is_string())
                fail(prefix + key, "expected a string, found " + std::string(v->type_name()));
            out = v->get<std::string>();
        }
    }
    void get(const nlohmann::json& obj, const std::string& prefix, const char* key, bool& out) const
    {
        if (const auto* v = find(obj, key)) {
            if (!v->is_boolean())
                fail(prefix + key, "expected true or false, found " + std::string(v->type_name()));
            out = v->get<bool>();
        }
    }
    void get(const nlohmann::json& obj, const std::string& prefix, const char* key, int& out, int lo, int hi) const
    {
        if (const auto* v = find(obj, key)) {
            if (!v->is_number_integer())
                fail(prefix + key, "expected an integer, found " + v->dump());
            // Non-negative JSON integers parse as unsigned; compare them unsigned so huge values
            // cannot wrap into range.
            const bool inRange = v->is_number_unsigned()
                ? v->get<uint64_t>() <= uint64_t(hi) && int64_t(v->get<uint64_t>()) >= lo
                : v->get<int64_t>() >= lo && v->get<int64_t>() <= hi;
            if (!inRange)
                fail(prefix + key, v->dump() + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
            out = int(v->get<int64_t>());
        }
    }
    void get(const nlohmann::json& obj, const std::string& prefix, const char* key, int64_t& out) const
    {
        if (const auto* v = find(obj, key)) {
            if (!v->is_number_integer() || (!v->is_number_unsigned() && v->get<int64_t>() < 0)
                || (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX)))
                fail(prefix + key, "expected a non-negative integer, found " + v->dump());
            out = v->get<int64_t>();
        }
    }
    void get(const nlohmann::json& obj, const std::string& prefix, const char* key, double& out) const
    {
        if (const auto* v = find(obj, key)) {
            if (!v->is_number())
                fail(prefix + key, "expected a number, found " + v->dump());
            out = v->get<double>();
        }
    }
    void get(const nlohmann::json& obj, const std::string& prefix, const char* key, std::vector<std::string>& out) const
    {
        if (const auto* v = find(obj, key)) {
            if (!v->is_array())
                fail(prefix + key, "expected an array of strings, found " + std::string(v->type_name()));
            out.clear();
            for (const auto& e : *v) {
                if (!e.is_string())
                    fail(prefix + key, "expected an array of strings, found an element " + e.dump());
                out.push_back(e.get<std::string>());
            }
        }
    }
    // Enum names go through the parsers of quant_settings.h; their messages list the choices.
    template <class Parse> void getEnum(const nlohmann::json& obj, const std::string& prefix, const char* key, Parse parse) const
    {
        std::string name;
        if (!find(obj, key))
            return;
        get(obj, prefix, key, name);
        try {
            parse(name);
        } catch (const InputError& e) {
            fail(prefix + key, e.what());
        }
    }
    const nlohmann::json* object(const nlohmann::json& obj, const char* key) const
    {
        const auto* v = find(obj, key);
        if (v && !v->is_object())
            fail(key, "expected an object, found " + std::string(v->type_name()));
        return v;
    }

private:
    std::string m_source;
};

} // namespace

std::string settingsToJson(const QuantSettings& s)
{
    // ordered_json keeps the struct's order, which reads better in exports and --json output.
    nlohmann::ordered_json j;
    j["method"] = s.method;
    j["mode"] = s.mode;
    j["weight"] = {{"format", weightFormatName(s.weight.format)},
                   {"bits", s.weight.bits},
                   {"group_size", s.weight.groupSize},
                   {"symmetric", s.weight.symmetric},
                   {"nf4_block", s.weight.nf4Block},
                   {"nf4_double_quant", s.weight.nf4DoubleQuant}};
    if (s.weight.perTensor)
        j["weight"]["per_tensor"] = true;
    if (s.weight.scaleDtype != ScaleDtype::F32)
        j["weight"]["scale_dtype"] = scaleDtypeName(s.weight.scaleDtype);
    j["abits"] = s.abits;
    j["act"] = actSchemeName(s.act);
    if (s.actClip != 1.0)
        j["act_clip"] = s.actClip;
    if (s.actAsym)
        j["act_asym"] = true;
    if (s.actFormat != ActFormat::Int)
        j["act_format"] = actFormatName(s.actFormat);
    if (s.actClipSearch > 0)
        j["act_clip_search"] = s.actClipSearch;
    if (s.actGroupSize > 0)
        j["act_group_size"] = s.actGroupSize;
    if (s.actClipMorphology)
        j["act_clip_objective"] = "morphology";
    if (s.smooth)
        j["smooth_alpha"] = s.smoothAlpha;
    if (s.quantizeEncoders)
        j["quantize_encoders"] = true;
    if (s.gptq.enabled)
        j["gptq"] = {{"damp", s.gptq.damp},
                     {"block_size", s.gptq.blockSize},
                     {"act_order", s.gptq.actOrder},
                     {"clip_steps", s.gptq.clipSteps},
                     {"clip_min", s.gptq.clipMin},
                     {"fp_target", s.gptq.fpTarget}};
    if (!s.rotation.empty())
        j["rotation"] = s.rotation;
    j["passes"] = s.passes();
    j["dabc"] = {{"enabled", s.dabc.enabled},
                 {"k", s.dabc.k},
                 {"use_local", s.dabc.useLocal},
                 {"use_global", s.dabc.useGlobal},
                 {"form", dispersionFormName(s.dabc.form)},
                 {"any_modality", s.dabc.anyModality},
                 {"rho", s.dabc.rho},
                 {"force_kinds", s.dabc.forceKinds},
                 {"max_share", s.dabc.maxShare}};
    j["mdqfo"] = {{"enabled", s.mdqfo.enabled},
                  {"solver", s.mdqfo.solver == MdqfoSolver::Adam ? "adam" : "grid"},
                  {"p", s.mdqfo.p},
                  {"lambda_cos", s.mdqfo.lambdaCos},
                  {"ratios", s.mdqfo.ratios},
                  {"r_min", s.mdqfo.rMin},
                  {"r_max", s.mdqfo.rMax},
                  {"ema_decay", s.mdqfo.emaDecay},
                  {"batch_tokens", s.mdqfo.batchTokens},
                  {"sample_elements", s.mdqfo.sampleElements},
                  {"sample_rows", s.mdqfo.sampleRows},
                  {"adam_steps", s.mdqfo.adamSteps},
                  {"adam_lr", s.mdqfo.adamLr}};
    // nlohmann writes doubles in shortest round-trip form, so a save/load cycle is exact.
    return j.dump(2);
}

QuantSettings settingsFromJson(const std::string& json, const std::string& source)
{
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json);
    } catch (const nlohmann::json::exception& e) {
        throw InputError(source + ": settings are not valid JSON: " + e.what());
    }
    if (!j.is_object())
        throw InputError(source + ": settings must be a JSON object, found " + std::string(j.type_name()));

    const JsonReader r(source);
    QuantSettings s;
    constexpr int kMaxInt = std::numeric_limits<int>::max();
    r.onlyKeys(j, "", {"method", "mode", "weight", "abits", "act", "act_clip", "act_asym", "act_clip_search", "act_clip_objective", "act_format", "act_group_size", "smooth_alpha", "quantize_encoders", "passes", "gptq", "dabc", "mdqfo",
                       "rotation"});
    r.get(j, "", "act_clip", s.actClip);
    if (!(s.actClip > 0.0 && s.actClip <= 1.0))
        throw InputError(source + ": act_clip " + std::to_string(s.actClip) + " (expected a ratio in (0, 1])");
    r.get(j, "", "act_asym", s.actAsym);
    r.get(j, "", "act_clip_search", s.actClipSearch, 0, 1000);
    r.get(j, "", "act_group_size", s.actGroupSize, 0, kMaxInt);
    r.get(j, "", "quantize_encoders", s.quantizeEncoders);
    if (j.contains("act_clip_objective")) {
        std::string objective;
        r.get(j, "", "act_clip_objective", objective);
        if (objective != "output" && objective != "morphology")
            throw InputError(source + ": act_clip_objective '" + objective + "' (expected output or morphology)");
        s.actClipMorphology = objective == "morphology";
    }
    if (j.contains("smooth_alpha")) {
        s.smooth = true;
        r.get(j, "", "smooth_alpha", s.smoothAlpha);
        if (!(s.smoothAlpha >= 0.0 && s.smoothAlpha <= 1.0))
            throw InputError(source + ": smooth_alpha " + std::to_string(s.smoothAlpha) + " (expected 0..1)");
    }
    r.getEnum(j, "", "act_format", [&](const std::string& v) { s.actFormat = parseActFormat(v); });
    if (const auto* g = r.object(j, "gptq")) { // present: GPTQ on
        const std::string p = "gptq.";
        r.onlyKeys(*g, p, {"damp", "block_size", "act_order", "clip_steps", "clip_min", "fp_target"});
        s.gptq.enabled = true;
        r.get(*g, p, "damp", s.gptq.damp);
        r.get(*g, p, "block_size", s.gptq.blockSize, 1, kMaxInt);
        r.get(*g, p, "act_order", s.gptq.actOrder);
        r.get(*g, p, "clip_steps", s.gptq.clipSteps, 0, 1000);
        r.get(*g, p, "clip_min", s.gptq.clipMin);
        r.get(*g, p, "fp_target", s.gptq.fpTarget);
        if (!(s.gptq.damp >= 0.0) || !(s.gptq.clipMin > 0.0 && s.gptq.clipMin <= 1.0))
            throw InputError(source + ": gptq.damp must be >= 0 and gptq.clip_min in (0, 1]");
    }
    r.get(j, "", "rotation", s.rotation);
    if (!validRotationKey(s.rotation))
        throw InputError(source + ": rotation '" + s.rotation + "' (expected hadamard:SEED)");
    r.get(j, "", "method", s.method);
    r.get(j, "", "mode", s.mode);
    r.get(j, "", "abits", s.abits, 2, 16);
    r.getEnum(j, "", "act", [&](const std::string& v) { s.act = parseActScheme(v); });

    if (const auto* w = r.object(j, "weight")) {
        const std::string p = "weight.";
        r.onlyKeys(*w, p, {"format", "bits", "group_size", "symmetric", "nf4_block", "nf4_double_quant", "scale_dtype", "per_tensor"});
        r.getEnum(*w, p, "scale_dtype", [&](const std::string& v) { s.weight.scaleDtype = parseScaleDtype(v); });
        r.getEnum(*w, p, "format", [&](const std::string& v) {
            if (v == "none") s.weight.format = WeightFormat::None;
            else if (v == "int") s.weight.format = WeightFormat::Int;
            else if (v == "nf4") s.weight.format = WeightFormat::NF4;
            else if (v == "nvfp4") s.weight.format = WeightFormat::NVFP4;
            else if (v == "mxfp4") s.weight.format = WeightFormat::MXFP4;
            else if (v == "hif4") s.weight.format = WeightFormat::HiF4;
            else throw InputError("unknown weight format '" + v + "' (expected none, int, nf4, nvfp4, mxfp4 or hif4)");
        });
        r.get(*w, p, "bits", s.weight.bits, 2, 8);
        r.get(*w, p, "group_size", s.weight.groupSize, 0, kMaxInt);
        r.get(*w, p, "symmetric", s.weight.symmetric);
        r.get(*w, p, "nf4_block", s.weight.nf4Block, 1, kMaxInt);
        r.get(*w, p, "nf4_double_quant", s.weight.nf4DoubleQuant);
        r.get(*w, p, "per_tensor", s.weight.perTensor);
    }
    if (const auto* d = r.object(j, "dabc")) {
        const std::string p = "dabc.";
        r.onlyKeys(*d, p,
                   {"enabled", "k", "use_local", "use_global", "form", "any_modality", "rho", "force_kinds", "max_share"});
        r.get(*d, p, "enabled", s.dabc.enabled);
        r.get(*d, p, "k", s.dabc.k);
        r.get(*d, p, "use_local", s.dabc.useLocal);
        r.get(*d, p, "use_global", s.dabc.useGlobal);
        r.getEnum(*d, p, "form", [&](const std::string& v) { s.dabc.form = parseDispersionForm(v); });
        r.get(*d, p, "any_modality", s.dabc.anyModality);
        r.get(*d, p, "rho", s.dabc.rho);
        r.get(*d, p, "force_kinds", s.dabc.forceKinds);
        // Sessions written before the cap existed had none: their masks are kept as they were.
        s.dabc.maxShare = 1.0;
        r.get(*d, p, "max_share", s.dabc.maxShare);
    }
    if (const auto* m = r.object(j, "mdqfo")) {
        const std::string p = "mdqfo.";
        r.onlyKeys(*m, p, {"enabled", "solver", "p", "lambda_cos", "ratios", "r_min", "r_max", "ema_decay",
                           "batch_tokens", "sample_elements", "sample_rows", "adam_steps", "adam_lr"});
        r.get(*m, p, "enabled", s.mdqfo.enabled);
        r.getEnum(*m, p, "solver", [&](const std::string& v) {
            if (v == "grid") s.mdqfo.solver = MdqfoSolver::GridSearch;
            else if (v == "adam") s.mdqfo.solver = MdqfoSolver::Adam;
            else throw InputError("unknown MDQFO solver '" + v + "' (expected grid or adam)");
        });
        r.get(*m, p, "p", s.mdqfo.p);
        r.get(*m, p, "lambda_cos", s.mdqfo.lambdaCos);
        r.get(*m, p, "ratios", s.mdqfo.ratios, 1, kMaxInt);
        r.get(*m, p, "r_min", s.mdqfo.rMin);
        r.get(*m, p, "r_max", s.mdqfo.rMax);
        r.get(*m, p, "ema_decay", s.mdqfo.emaDecay);
        r.get(*m, p, "batch_tokens", s.mdqfo.batchTokens, 1, kMaxInt);
        r.get(*m, p, "sample_elements", s.mdqfo.sampleElements);
        r.get(*m, p, "sample_rows", s.mdqfo.sampleRows, 0, kMaxInt);
        r.get(*m, p, "adam_steps", s.mdqfo.adamSteps, 0, kMaxInt);
        r.get(*m, p, "adam_lr", s.mdqfo.adamLr);
    }
    return s;
}

} // namespace mq::core
