#include "export/check_export.h"

#include "common/error.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/session_store.h"
#include "quant/formats.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <map>
#include <algorithm>
#include <cstring>
#include <memory>
#include <regex>
#include <set>

namespace fs = std::filesystem;

namespace mq::core {

namespace {

using json = nlohmann::json;

const std::set<std::string> kFormats = {"dense",        "int-quantized",        "float-quantized",
                                        "naive-quantized", "pack-quantized",    "nvfp4-pack-quantized",
                                        "mxfp4-pack-quantized", "mxfp8-quantized", "int4-quantized",
                                        "mixed-precision"};
const std::set<std::string> kStrategies = {"tensor", "channel", "group", "block", "token", "tensor_group", "attn_head"};
const char* kLinearKinds[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                              "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};

bool endsWith(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// vLLM's matching of an ignore entry: the exact module name, or "re:" + a pattern matched at
// the start of the name (Python re.match).
bool ignored(const std::vector<std::string>& ignore, const std::string& module)
{
    for (const std::string& e : ignore) {
        if (e.rfind("re:", 0) == 0) {
            try {
                if (std::regex_search(module, std::regex(e.substr(3)), std::regex_constants::match_continuous))
                    return true;
            } catch (const std::regex_error&) {
            }
        } else if (e == module || (endsWith(module, "." + e))) {
            return true;
        }
    }
    return false;
}

DType modelDType(const std::string& torchDtype)
{
    if (torchDtype == "bfloat16")
        return DType::BF16;
    if (torchDtype == "float16")
        return DType::F16;
    return DType::F32;
}

struct Args {
    bool present = false;
    std::string type = "int";
    int bits = 8;
    std::string strategy;
    int64_t groupSize = 0;
    bool symmetric = true;
    json dynamic = false;
};

Args readArgs(const json& j, const std::string& where, ExportCheck& c, bool weights)
{
    Args a;
    if (j.is_null())
        return a;
    if (!j.is_object()) {
        c.errors.push_back(where + " must be an object or null");
        return a;
    }
    a.present = true;
    a.type = j.value("type", std::string("int"));
    if (a.type != "int" && a.type != "float")
        c.errors.push_back(where + ".type '" + a.type + "' is not int or float");
    if (!j.contains("num_bits") || !j["num_bits"].is_number_integer())
        c.errors.push_back(where + ".num_bits is missing");
    else
        a.bits = j["num_bits"].get<int>();
    if (a.bits < 1 || a.bits > 8)
        c.errors.push_back(where + ".num_bits " + std::to_string(a.bits) + " is outside 1..8");
    a.symmetric = j.value("symmetric", true);
    if (j.contains("group_size") && j["group_size"].is_number_integer())
        a.groupSize = j["group_size"].get<int64_t>();
    a.strategy = j.value("strategy", std::string());
    if (a.strategy.empty()) // compressed-tensors' inference
        a.strategy = a.groupSize > 0 ? "group" : a.groupSize == -1 ? "channel" : "tensor";
    if (!kStrategies.count(a.strategy))
        c.errors.push_back(where + ".strategy '" + a.strategy + "' is not a compressed-tensors strategy");
    if ((a.strategy == "group" || a.strategy == "tensor_group") && a.groupSize <= 0)
        c.errors.push_back(where + ": strategy " + a.strategy + " needs a positive group_size");
    a.dynamic = j.value("dynamic", json(false));
    if (a.strategy == "token" && a.dynamic != true)
        c.errors.push_back(where + ": strategy token needs dynamic true");
    if (weights && a.dynamic != false)
        c.errors.push_back(where + ": weights must be static (dynamic false)");
    return a;
}

struct Linear {
    std::string name; // module
    std::vector<std::string> tensors;
};

} // namespace

ExportCheck checkExport(const std::string& dir)
{
    ExportCheck c;
    c.dir = dir;
    const std::string cfgPath = (fs::path(dir) / "config.json").string();
    json cfg;
    try {
        cfg = json::parse(readTextFile(cfgPath));
    } catch (const std::exception& e) {
        c.errors.push_back(cfgPath + ": " + e.what());
        return c;
    }
    if (!cfg.contains("quantization_config") || !cfg["quantization_config"].is_object()) {
        c.why = "no quantization_config: an unquantized model";
        return c;
    }
    const json& qc = cfg["quantization_config"];
    c.quantMethod = qc.value("quant_method", std::string());
    std::unique_ptr<Checkpoint> ck;
    try {
        ck = std::make_unique<Checkpoint>(dir);
    } catch (const std::exception& e) {
        c.errors.push_back(e.what());
        return c;
    }
    if (c.quantMethod == "morphoquant-sim") {
        c.format = "morphoquant-sim";
        c.why = "morphoquant-sim holds dequantized float32 weights with this tool's activation tensors; no "
                "serving stack has a scheme for it (export compressed-tensors or nvfp4 to serve)";
        return c;
    }
    if (c.quantMethod != "compressed-tensors" && c.quantMethod != "morphoquant") {
        c.errors.push_back(cfgPath + ": quant_method '" + c.quantMethod
                           + "' is not checked here (compressed-tensors, morphoquant, morphoquant-sim)");
        return c;
    }
    const std::string torchDtype = cfg.value("torch_dtype", std::string("float32"));
    const DType mdt = modelDType(cfg.contains("text_config") ? cfg["text_config"].value("torch_dtype", torchDtype) : torchDtype);

    // One scheme for every targeted Linear (what this checker reads; several groups: each listed).
    Args w, in;
    std::vector<std::string> ignore;
    if (qc.contains("ignore")) {
        if (!qc["ignore"].is_array())
            c.errors.push_back("quantization_config.ignore must be a list");
        else
            for (const json& e : qc["ignore"])
                if (e.is_string())
                    ignore.push_back(e.get<std::string>());
                else
                    c.errors.push_back("quantization_config.ignore holds a non-string entry " + e.dump());
    }
    if (c.quantMethod == "morphoquant") {
        c.format = qc.value("format", std::string());
        if (c.format != "morphoquant-packed")
            c.errors.push_back("quantization_config.format '" + c.format + "' is not morphoquant-packed");
        try {
            settingsFromJson(qc.at("settings").dump(), cfgPath);
        } catch (const std::exception& e) {
            c.errors.push_back(std::string("quantization_config.settings: ") + e.what());
        }
        w = readArgs(qc.value("weights", json()), "quantization_config.weights", c, true);
        in = readArgs(qc.value("input_activations", json()), "quantization_config.input_activations", c, false);
        c.why = "vLLM has no morphoquant quant_method (static per-channel activation scales with DABC "
                "compensation); this tool's eval --model reads it";
    } else {
        c.format = qc.value("format", std::string());
        if (!kFormats.count(c.format))
            c.errors.push_back("quantization_config.format '" + c.format + "' is not a compressed-tensors format");
        if (qc.value("quantization_status", std::string()) != "compressed")
            c.errors.push_back("quantization_config.quantization_status is '" + qc.value("quantization_status", std::string())
                               + "'; packed tensors need \"compressed\"");
        if (!qc.contains("config_groups") || !qc["config_groups"].is_object() || qc["config_groups"].empty()) {
            c.errors.push_back("quantization_config.config_groups is missing or empty");
            return c;
        }
        if (qc["config_groups"].size() > 1)
            c.warnings.push_back("more than one config group: only the first is checked against the tensors");
        const auto g = qc["config_groups"].begin();
        const std::string where = "quantization_config.config_groups." + g.key();
        const json& grp = g.value();
        if (!grp.contains("targets") || !grp["targets"].is_array() || grp["targets"].empty())
            c.errors.push_back(where + ".targets must be a non-empty list");
        else if (std::find(grp["targets"].begin(), grp["targets"].end(), json("Linear")) == grp["targets"].end())
            c.warnings.push_back(where + ".targets does not name Linear; the decoder's projections are matched by name");
        if (grp.contains("format") && grp["format"].is_string()) {
            const std::string gf = grp["format"].get<std::string>();
            if (c.format == "mixed-precision")
                c.format = gf;
            else if (gf != c.format)
                c.errors.push_back(where + ".format '" + gf + "' differs from the top-level format '" + c.format
                                   + "' (use mixed-precision at the top)");
        }
        w = readArgs(grp.value("weights", json()), where + ".weights", c, true);
        in = readArgs(grp.value("input_activations", json()), where + ".input_activations", c, false);
        if (!w.present)
            c.errors.push_back(where + ".weights is missing");
    }

    // The decoder's Linears in the checkpoint, by module name.
    std::map<std::string, Linear> linears;
    for (const std::string& name : ck->tensorNames()) {
        if (name.find("model.layers.") == std::string::npos)
            continue;
        for (const char* kind : kLinearKinds) {
            const std::string k = std::string(".") + kind + ".";
            const size_t p = name.find(k);
            if (p == std::string::npos)
                continue;
            const std::string module = name.substr(0, p + k.size() - 1);
            if (module.find("model.layers.") == std::string::npos || module.find("visual") != std::string::npos
                || module.find("audio") != std::string::npos)
                continue;
            linears[module].name = module;
            linears[module].tensors.push_back(name.substr(p + k.size()));
        }
    }
    const bool nvfp4 = c.format == "nvfp4-pack-quantized";
    const bool packInt = c.format == "pack-quantized" || c.format == "morphoquant-packed";
    const bool unpacked = c.format == "int-quantized";
    if (!nvfp4 && !packInt && !unpacked) {
        c.errors.push_back("format '" + c.format + "' is not checked tensor by tensor here");
        return c;
    }
    auto has = [&](const Linear& l, const std::string& t) {
        return std::find(l.tensors.begin(), l.tensors.end(), t) != l.tensors.end();
    };
    std::map<std::string, float> globalScales; // module -> weight_global_scale
    std::map<std::string, float> inputScales;
    std::map<std::string, float> staticInputScales; // module -> input_scale (static per-tensor)
    for (const auto& entry : linears) {
        const std::string& module = entry.first; // (lambdas below capture it: no structured binding)
        const Linear& l = entry.second;
        const bool ig = ignored(ignore, module);
        const bool packed = has(l, "weight_packed") || (unpacked && has(l, "weight_scale"));
        if (ig) {
            ++c.ignoredLinears;
            if (packed)
                c.errors.push_back(module + " is packed but matched by ignore (a loader would read it as a plain Linear)");
            continue;
        }
        if (!packed) {
            c.errors.push_back(module + " is neither packed (" + (unpacked ? "weight_scale" : "weight_packed")
                               + ") nor in ignore: a loader would look for its quantized tensors");
            continue;
        }
        ++c.packedLinears;
        auto info = [&](const std::string& t) -> const TensorInfo* {
            const std::string n = module + "." + t;
            if (!ck->contains(n)) {
                c.errors.push_back(n + " is missing");
                return nullptr;
            }
            return &ck->info(n);
        };
        auto expect = [&](const std::string& t, DType dt, const std::vector<int64_t>& shape) {
            const TensorInfo* ti = info(t);
            if (!ti)
                return;
            if (ti->dtype != dt || ti->shape != shape)
                c.errors.push_back(module + "." + t + " is " + dtypeName(ti->dtype) + " " + shapeText(ti->shape)
                                   + ", expected " + dtypeName(dt) + " " + shapeText(shape));
        };
        if (nvfp4) {
            const TensorInfo* pi = info("weight_packed");
            if (!pi || pi->shape.size() != 2 || pi->dtype != DType::U8) {
                if (pi)
                    c.errors.push_back(module + ".weight_packed must be a 2-D U8 tensor");
                continue;
            }
            const int64_t out = pi->shape[0], k = pi->shape[1] * 2;
            expect("weight_scale", DType::F8_E4M3, {out, k / 16});
            expect("weight_global_scale", DType::F32, {1});
            if (k % 16 != 0)
                c.errors.push_back(module + ": " + std::to_string(k) + " inputs are not whole 16-element blocks");
            if (has(l, "weight"))
                c.errors.push_back(module + " holds both weight and weight_packed");
            if (ck->contains(module + ".weight_scale") && ck->info(module + ".weight_scale").dtype == DType::F8_E4M3) {
                const at::Tensor s = ck->view(module + ".weight_scale").contiguous();
                const uint8_t* b = s.data_ptr<uint8_t>();
                for (int64_t i = 0; i < s.numel(); ++i)
                    if ((b[i] & 0x7F) == 0x7F) {
                        c.errors.push_back(module + ".weight_scale holds a NaN E4M3 byte at " + std::to_string(i));
                        break;
                    }
                ck->release(module + ".weight_scale");
            }
            if (ck->contains(module + ".weight_global_scale") && ck->info(module + ".weight_global_scale").numel() == 1) {
                const float gs = ck->loadFloat(module + ".weight_global_scale").item<float>();
                if (!(gs > 0.f) || !std::isfinite(gs))
                    c.errors.push_back(module + ".weight_global_scale " + std::to_string(gs) + " is not a positive finite divisor");
                globalScales[module] = gs;
            }
            if (in.present) {
                expect("input_global_scale", DType::F32, {1});
                if (ck->contains(module + ".input_global_scale") && ck->info(module + ".input_global_scale").numel() == 1)
                    inputScales[module] = ck->loadFloat(module + ".input_global_scale").item<float>();
            }
            continue;
        }
        // integers
        int64_t out = 0, k = 0;
        if (unpacked) {
            const TensorInfo* wi = info("weight");
            if (!wi)
                continue;
            if (wi->dtype != DType::I8 || wi->shape.size() != 2) {
                c.errors.push_back(module + ".weight is " + dtypeName(wi->dtype) + " " + shapeText(wi->shape)
                                   + ", expected 2-D I8 (int-quantized)");
                continue;
            }
            out = wi->shape[0];
            k = wi->shape[1];
        } else {
            const TensorInfo* si = info("weight_shape");
            if (!si)
                continue;
            if (si->dtype != DType::I64 || si->numel() != 2) {
                c.errors.push_back(module + ".weight_shape must be I64 [2]");
                continue;
            }
            const at::Tensor shp = ck->load(module + ".weight_shape");
            out = shp[0].item<int64_t>();
            k = shp[1].item<int64_t>();
            expect("weight_packed", DType::I32, {out, fmt::packedInt32Cols(k, w.bits)});
            if (has(l, "weight"))
                c.errors.push_back(module + " holds both weight and weight_packed");
        }
        const int64_t g = w.strategy == "group" ? w.groupSize : k;
        if (w.strategy == "group" && g > 0 && k % g != 0)
            c.warnings.push_back(module + ": " + std::to_string(k) + " inputs are not a multiple of group_size "
                                 + std::to_string(g) + " (a partial last group)");
        const int64_t groups = g > 0 ? (k + g - 1) / g : 1;
        expect("weight_scale", mdt, {out, groups});
        const bool zp = has(l, "weight_zero_point");
        if (!w.symmetric && (w.strategy == "group" || w.strategy == "channel")) {
            if (unpacked)
                expect("weight_zero_point", DType::I8, {out, groups});
            else
                expect("weight_zero_point", DType::I32, {fmt::packedInt32Cols(out, w.bits), groups});
        } else if (zp) {
            c.errors.push_back(module + ".weight_zero_point is present but the weights are symmetric (compressed-tensors "
                                        "drops it)");
        }
        if (c.quantMethod == "compressed-tensors" && in.present && in.strategy == "tensor" && in.dynamic == false) {
            // static per-tensor activations: one positive scale per Linear, shared by fused siblings
            expect("input_scale", DType::F32, {1});
            if (ck->contains(module + ".input_scale") && ck->info(module + ".input_scale").numel() == 1) {
                const float v = ck->loadFloat(module + ".input_scale").item<float>();
                if (!(v > 0.f) || !std::isfinite(v))
                    c.errors.push_back(module + ".input_scale " + std::to_string(v) + " is not a positive finite scale");
                staticInputScales[module] = v;
            }
        }
        if (c.quantMethod == "morphoquant" && in.present) {
            if (in.strategy == "channel") {
                expect("input_alpha", DType::F32, {k});
                expect("input_dabc_mask", DType::U8, {k});
            } else {
                expect("input_clip_ratio", DType::F32, {1});
            }
        }
    }
    if (c.packedLinears == 0 && c.errors.empty())
        c.errors.push_back("no packed decoder Linear found");
    // fused siblings share their global scales (vLLM takes one per fused weight)
    auto sameScale = [&](const std::map<std::string, float>& m, const char* what) {
        std::map<std::string, std::pair<std::string, float>> first; // layer prefix + fused kind -> (module, scale)
        for (const auto& [module, v] : m) {
            std::string key;
            for (const char* s : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"})
                if (endsWith(module, s))
                    key = module.substr(0, module.size() - std::strlen(s)) + "qkv";
            for (const char* s : {"mlp.gate_proj", "mlp.up_proj"})
                if (endsWith(module, s))
                    key = module.substr(0, module.size() - std::strlen(s)) + "gate_up";
            if (key.empty())
                continue;
            auto it = first.find(key);
            if (it == first.end())
                first[key] = {module, v};
            else if (it->second.second != v)
                c.errors.push_back(module + "." + what + " " + std::to_string(v) + " differs from "
                                   + it->second.first + "'s " + std::to_string(it->second.second)
                                   + ": fused projections must share one (vLLM keeps one per fused weight)");
        }
    };
    sameScale(globalScales, "weight_global_scale");
    sameScale(inputScales, "input_global_scale");
    sameScale(staticInputScales, "input_scale");

    // Which vLLM scheme (compressed_tensors.py's selection, FORMATS.md section 6).
    if (c.quantMethod == "compressed-tensors" && c.errors.empty()) {
        const bool staticW = w.dynamic == false;
        if (nvfp4 && w.type == "float" && w.bits == 4 && w.groupSize == 16) {
            if (!in.present)
                c.scheme = "CompressedTensorsW4A16Fp4 (NVFP4 weights, 16-bit activations)";
            else if (in.type == "float" && in.bits == 4 && in.groupSize == 16)
                c.scheme = "CompressedTensorsW4A4Fp4 (NVFP4; native FP4 GEMM needs Blackwell, Hopper emulates it "
                           "or falls back to Marlin weight-only)";
            else
                c.why = "NVFP4 weights with activations other than NVFP4";
        } else if (c.format == "pack-quantized" && w.type == "int" && staticW
                   && (w.strategy == "channel" || w.strategy == "group")) {
            if (!in.present && (w.bits == 4 || w.bits == 8))
                c.scheme = "CompressedTensorsWNA16 (W" + std::to_string(w.bits) + "A16, Marlin / Machete kernels)";
            else if (in.present && w.bits == 4 && in.type == "int" && in.symmetric && in.dynamic == true
                     && (in.strategy == "token" || in.strategy == "group") && in.bits == 4)
                c.scheme = "CompressedTensorsWNA4Int (INT W4A4, SM >= 75; its GPU kernel support is unconfirmed, "
                           "FORMATS.md section 6)";
            else if (in.present && w.bits == 4 && in.type == "int" && in.bits == 8 && in.dynamic == true)
                c.scheme = "CompressedTensorsW4A8Int (INT W4A8; CPU and Arm kernels)";
            else
                c.why = "pack-quantized with activations vLLM's INT schemes do not take (they need symmetric dynamic "
                        "per-token integers)";
        } else if (unpacked && w.type == "int" && w.bits == 8 && staticW && w.symmetric
                   && (w.strategy == "channel" || w.strategy == "tensor") && in.present && in.type == "int"
                   && in.bits == 8) {
            c.scheme = in.strategy == "tensor" && in.dynamic == false
                ? "CompressedTensorsW8A8Int8 (INT8 weights and static per-tensor activations)"
                : "CompressedTensorsW8A8Int8 (INT8 weights and per-token dynamic activations)";
        } else {
            c.why = "no vLLM compressed-tensors scheme matches format " + c.format + " with these weight and input "
                    "arguments";
        }
    } else if (!c.errors.empty() && c.why.empty()) {
        c.why = "the folder breaks the loading rules above";
    }
    return c;
}

std::string exportCheckJson(const ExportCheck& c)
{
    json j{{"dir", c.dir},           {"ok", c.ok()},         {"quant_method", c.quantMethod},
           {"format", c.format},     {"scheme", c.scheme},   {"why", c.why},
           {"packed_linears", c.packedLinears}, {"ignored_linears", c.ignoredLinears},
           {"errors", c.errors},     {"warnings", c.warnings}};
    return j.dump();
}

} // namespace mq::core
