#include "export/hf_export.h"

#include "common/error.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "io/session_store.h"
#include "export/packed_export.h"
#include "pipeline.h"
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
                              const CancelToken* cancel, const ProgressSink& progress, int64_t shardBytes)
{
    auto checkCancel = [cancel] {
        if (cancel)
            cancel->check();
    };
    if (!s.settings)
        throw Error("nothing to export: the session has no quantization plan");
    if (!fp.rotationKey().empty() || !s.calibration.rotation.empty())
        throw InputError("the plan works in a rotated basis (" + s.calibration.rotation
                         + "): exporting a rotated model is not written yet; nothing was written");
    const QuantSettings& st = *s.settings;
    if (st.smooth)
        throw InputError("a SmoothQuant plan needs its factors folded into the norms and Linears before them, which "
                         "the export does not do yet; nothing was written");
    if (st.act == ActScheme::PerTokenDynamic && st.actFormat == ActFormat::NVFP4)
        throw InputError("NVFP4 activations need their static global scales in the export, which this format does "
                         "not carry yet; nothing was written");
    checkFolderTarget(outDir, overwrite); // fail before the work, not after

    // Every tensor of the source as stored (vision / audio towers, talker, ... stay untouched),
    // with the decoder's Linear weights replaced by their quantized values (float32). Tensors go
    // to disk one at a time: a source tensor is copied from the mapped shard in pieces, a Linear
    // weight is read, quantized and written, and nothing is held whole.
    const DecoderModel q = makeQuantizedModel(fp, s).model; // stored (GPTQ) and folded (deployable) weights too
    std::map<std::string, int> linear; // tensor name -> module index
    for (size_t i = 0; i < q.modules().size(); ++i)
        linear[q.modules()[i].name + ".weight"] = int(i);
    Checkpoint src(fp.dir());
    std::vector<TensorSpec> specs;
    for (const std::string& name : src.tensorNames()) {
        const TensorInfo& ti = src.info(name);
        specs.push_back(TensorSpec{name, linear.count(name) ? DType::F32 : ti.dtype, ti.shape});
    }
    std::map<std::string, at::Tensor> extra; // small tensors of the plan
    nlohmann::json groups = nlohmann::json::array();
    if (st.act == ActScheme::PerChannelStatic) {
        for (const std::string& g : fp.groups()) {
            auto it = s.plans.find(g);
            if (it == s.plans.end() || it->second.alpha.empty())
                throw Error("the plan has no clipping bounds for input group '" + g + "'");
            const GroupPlan& p = it->second;
            extra["morphoquant." + g + ".act_alpha"] = at::tensor(p.alpha, at::TensorOptions().dtype(at::kFloat));
            extra["morphoquant." + g + ".dabc_mask"] = at::tensor(
                std::vector<uint8_t>(p.mask.begin(), p.mask.end()), at::TensorOptions().dtype(at::kByte));
            groups.push_back(g);
        }
    }
    for (const auto& [name, t] : extra)
        specs.push_back(TensorSpec{name, fromScalarType(t.scalar_type()), t.sizes().vec()});

    uint64_t totalBytes = 0;
    for (const TensorSpec& t : specs)
        totalBytes += t.bytes();

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
    int shards = 0;
    sum.dir = writeFolderAtomic(outDir, overwrite, [&](const std::string& dir) {
        const fs::path tmp(dir);
        uint64_t written = 0;
        shards = writeShardedCheckpoint(
            dir, specs, shardBytes, false, {{"format", "pt"}, {"producer", "morphoquant"}},
            [&](const TensorSpec& spec, SafetensorsStreamWriter& out) {
                checkCancel();
                auto lin = linear.find(spec.name);
                auto ex = extra.find(spec.name);
                if (lin != linear.end()) {
                    out.write(spec.name, q.linearWeight(lin->second));
                } else if (ex != extra.end()) {
                    out.write(spec.name, ex->second);
                } else {
                    copyStoredTensor(src, spec, out);
                }
                written += spec.bytes();
                report(progress, "export", double(written) / double(std::max<uint64_t>(1, totalBytes)), spec.name);
            });
        checkCancel(); // last chance: writeFolderAtomic removes the temp folder on the way out
        writeFileAtomic((tmp / "config.json").string(), cfg.dump(2) + "\n");
        copyModelSideFiles(fp.dir(), tmp.string());
    });
    const fs::path out(sum.dir);
    sum.representation = std::string(kMethod) + " v" + std::to_string(kExportVersion);
    sum.tensors = int64_t(specs.size());
    sum.shards = shards;
    for (const auto& e : fs::directory_iterator(out))
        if (e.is_regular_file())
            sum.bytes += int64_t(e.file_size());
    return sum;
}

void copyModelSideFiles(const std::string& fromDir, const std::string& toDir)
{
    for (const char* name : kCopiedFiles) {
        const fs::path from = fs::path(fromDir) / name;
        if (fs::exists(from))
            writeFileAtomic((fs::path(toDir) / name).string(), readTextFile(from.string()));
    }
}

LoadedModel loadModelForEval(const std::string& dir, Residency residency)
{
    const std::string cfgPath = dir + "/config.json";
    if (isPackedConfig(cfgPath)) {
        // Weights dequantized from the packed tensors as they are read, activations as the
        // quantization_config says.
        PackedModelInfo info = readPackedConfig(dir);
        LoadedModel lm{DecoderModel::load(dir, residency, info.prepare), info.settings, {}};
        lm.groups = packedGroupQuant(dir, lm.model, *lm.settings);
        return lm;
    }
    LoadedModel lm{DecoderModel::load(dir, residency), std::nullopt, {}};
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
