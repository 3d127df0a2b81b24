#include "export/hf_export.h"

#include "common/error.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "io/session_store.h"
#include "quant/weight_quant.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace fs = std::filesystem;

namespace mq::core {

namespace {

const char* kMethod = "morphoquant-sim";
constexpr int kExportVersion = 1;

const char* kCopiedFiles[] = {"tokenizer.json", "tokenizer.model", "tokenizer_config.json",
                              "special_tokens_map.json", "generation_config.json", "vocab.json",
                              "merges.txt", "added_tokens.json", "chat_template.json",
                              "preprocessor_config.json"};

} // namespace

ExportSummary exportSimulated(const DecoderModel& fp, const Session& s, const std::string& outDir, bool overwrite,
                              const CancelToken* cancel)
{
    auto checkCancel = [cancel] {
        if (cancel)
            cancel->check();
    };
    if (!s.settings)
        throw Error("nothing to export: the session has no quantization plan");
    const QuantSettings& st = *s.settings;
    checkFolderTarget(outDir, overwrite); // fail before the work, not after

    // Every tensor of the source as stored (vision / audio towers, talker, ... stay untouched),
    // with the decoder's Linear weights replaced by their quantized values.
    DecoderModel q = quantizeWeights(fp, st.weight);
    std::map<std::string, at::Tensor> tensors;
    {
        Checkpoint src(fp.dir());
        for (const std::string& name : src.tensorNames()) {
            checkCancel();
            tensors[name] = src.load(name);
        }
    }
    for (size_t i = 0; i < q.modules().size(); ++i)
        tensors[q.modules()[i].name + ".weight"] = q.linearWeight(int(i));
    nlohmann::json groups = nlohmann::json::array();
    if (st.act == ActScheme::PerChannelStatic) {
        for (const std::string& g : fp.groups()) {
            auto it = s.plans.find(g);
            if (it == s.plans.end() || it->second.alpha.empty())
                throw Error("the plan has no clipping bounds for input group '" + g + "'");
            const GroupPlan& p = it->second;
            tensors["morphoquant." + g + ".act_alpha"] =
                at::tensor(p.alpha, at::TensorOptions().dtype(at::kFloat));
            tensors["morphoquant." + g + ".dabc_mask"] = at::tensor(
                std::vector<uint8_t>(p.mask.begin(), p.mask.end()), at::TensorOptions().dtype(at::kByte));
            groups.push_back(g);
        }
    }

    nlohmann::json cfg = nlohmann::json::parse(readTextFile(fp.dir() + "/config.json"));
    nlohmann::json qc;
    qc["quant_method"] = kMethod;
    qc["format_version"] = kExportVersion;
    qc["representation"] = "Linear weights stored dequantized (float32 values on the quantization grid); "
                           "activations quantized at run time as settings say";
    qc["settings"] = nlohmann::json::parse(settingsToJson(st));
    qc["label"] = st.label();
    qc["groups"] = groups;
    cfg["quantization_config"] = qc;

    ExportSummary sum;
    sum.dir = writeFolderAtomic(outDir, overwrite, [&](const std::string& dir) {
        checkCancel(); // last chance: writeFolderAtomic removes the temp folder on the way out
        const fs::path tmp(dir);
        writeSafetensors((tmp / "model.safetensors").string(), tensors, {{"format", "pt"}, {"producer", "morphoquant"}});
        writeFileAtomic((tmp / "config.json").string(), cfg.dump(2) + "\n");
        for (const char* name : kCopiedFiles) {
            const fs::path src = fs::path(fp.dir()) / name;
            if (fs::exists(src))
                writeFileAtomic((tmp / name).string(), readTextFile(src.string()));
        }
    });
    const fs::path out(sum.dir);
    sum.representation = std::string(kMethod) + " v" + std::to_string(kExportVersion);
    sum.tensors = int64_t(tensors.size());
    for (const auto& e : fs::directory_iterator(out))
        if (e.is_regular_file())
            sum.bytes += int64_t(e.file_size());
    return sum;
}

LoadedModel loadModelForEval(const std::string& dir)
{
    LoadedModel lm{DecoderModel::load(dir), std::nullopt, {}};
    const std::string cfgPath = dir + "/config.json";
    nlohmann::json cfg = nlohmann::json::parse(readTextFile(cfgPath), nullptr, false);
    if (cfg.is_discarded() || !cfg.contains("quantization_config"))
        return lm;
    const nlohmann::json& qc = cfg["quantization_config"];
    if (!qc.is_object() || qc.value("quant_method", std::string()) != kMethod)
        throw InputError(cfgPath + ": quantization_config.quant_method '" + qc.value("quant_method", std::string("?"))
                         + "' is not supported (expected '" + kMethod + "')");
    if (qc.value("format_version", 0) > kExportVersion)
        throw InputError(cfgPath + ": export format version " + std::to_string(qc.value("format_version", 0))
                         + " is newer than this build reads (" + std::to_string(kExportVersion) + ")");
    if (!qc.contains("settings"))
        throw InputError(cfgPath + ": quantization_config has no settings");
    lm.settings = settingsFromJson(qc["settings"].dump(), cfgPath);
    lm.groups.resize(lm.model.groups().size());
    if (lm.settings->act == ActScheme::PerChannelStatic) {
        Checkpoint ck(dir);
        for (size_t g = 0; g < lm.model.groups().size(); ++g) {
            const std::string base = "morphoquant." + lm.model.groups()[g];
            const int64_t k = lm.model.groupChannels(int(g));
            for (const char* suffix : {".act_alpha", ".dabc_mask"}) {
                const std::string name = base + suffix;
                if (!ck.contains(name))
                    throw InputError(describe(dir, name, "missing; a morphoquant-sim export with static activations "
                                                         "needs it"));
                if (ck.info(name).numel() != k)
                    throw InputError(describe(ck.fileOf(name), name,
                                              "has " + std::to_string(ck.info(name).numel()) + " entries, expected "
                                                  + std::to_string(k)));
            }
            lm.groups[g].alpha = ck.loadFloat(base + ".act_alpha");
            lm.groups[g].mask = ck.load(base + ".dabc_mask").to(at::kFloat);
        }
    }
    return lm;
}

} // namespace mq::core
