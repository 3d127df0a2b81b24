#include "export/hf_export.h"

#include "export/export_format.h"

#include "common/error.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "io/session_store.h"
#include "export/packed_export.h"
#include "pipeline.h"
#include "quant/rotation.h"
#include "quant/weight_quant.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <future>

namespace fs = std::filesystem;

namespace mq::core {

namespace {

const char* kMethod = "morphoquant-sim";
constexpr int kExportVersion = 1;

const char* kCopiedFiles[] = {"tokenizer.json", "tokenizer.model", "tokenizer_config.json",
                              "special_tokens_map.json", "generation_config.json", "vocab.json",
                              "merges.txt", "added_tokens.json", "chat_template.json",
                              "preprocessor_config.json"};

// A checksum of a rotation matrix that any change of an entry past float rounding moves:
// sum of m_ij * w_ij with fixed weights w_ij in -8..8, and the scale to compare it against.
std::pair<double, double> matrixChecksum(const at::Tensor& m)
{
    const at::Tensor d = m.to(at::kDouble).contiguous();
    const int64_t n = d.size(0), k = d.size(1);
    const double* p = d.data_ptr<double>();
    double sum = 0.0, scale = 0.0;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < k; ++j) {
            const double w = double((i * 131 + j * 31) % 17) - 8.0;
            sum += p[i * k + j] * w;
            scale += std::fabs(p[i * k + j] * w);
        }
    return {sum, scale};
}

} // namespace

void checkPlanBasis(const DecoderModel& fp, const Session& s)
{
    const std::string& plan = s.settings.value().rotation; // (callers refuse a session without a plan first)
    if (s.settings->quantizeEncoders) // (exportRefusal's reason, checked up front by the CLI too)
        throw InputError(exportRefusal(*s.settings, ExportFormat::MorphoquantSim) + "; nothing was written");
    if (fp.rotationKey() != plan || s.calibration.rotation != plan)
        throw Error("export: the model is in basis '" + fp.rotationKey() + "', the plan in '" + plan
                    + "' (internal error; nothing was written)");
}

std::map<std::string, at::Tensor> smoothedNorms(const DecoderModel& fp, const Session& s)
{
    std::map<std::string, at::Tensor> out;
    if (!s.settings || !s.settings->smooth)
        return out;
    if (!s.settings->rotation.empty())
        throw InputError("the plan is rotated (" + s.settings->rotation + ") and smoothed: its norms are folded into the "
                         "rotated weights, so SmoothQuant's factors have no norm to fold into; nothing was written");
    std::vector<GroupQuant> gq = groupQuantFromPlan(fp, s);
    for (int l = 0; l < fp.numLayers(); ++l)
        for (int k : {1, 3}) {
            const int g = fp.layerGroups(l)[size_t(k)];
            if (gq[size_t(g)].smooth.defined())
                throw InputError("the plan smooths input group '" + fp.groups()[size_t(g)]
                                 + "', which no norm precedes (a session of an earlier version): quantize again to "
                                   "export it; nothing was written");
        }
    // The very fold the evaluation makes (makeQuantizedModel with foldSmoothing).
    const DecoderModel folded = foldSmoothingIntoNorms(fp, gq);
    for (int l = 0; l < fp.numLayers(); ++l) {
        const std::string p = fp.tensorPrefix() + "model.layers." + std::to_string(l) + ".";
        const auto [in, post] = folded.layerNorms(l);
        out[p + "input_layernorm.weight"] = in.cpu().to(at::kFloat).contiguous();
        out[p + "post_attention_layernorm.weight"] = post.cpu().to(at::kFloat).contiguous();
    }
    return out;
}

std::string rotationRecordJson(const DecoderModel& model, const std::string& key)
{
    if (!validRotationKey(key) || key.empty())
        throw Error("rotationRecordJson: no rotation key '" + key + "'");
    const Rotation r = makeRotation(model, rotationSeed(key), rotatesHeads(key));
    nlohmann::json j{{"key", key},
                     {"applies", "the Linear weights are stored in the rotated basis; a reader folds the RMSNorm "
                                 "scales (norms become 1), turns the embedding output by residual, the final hidden "
                                 "state back by its transpose, down_proj's input by down (online) and, with heads, "
                                 "v_proj's biases per head"}};
    auto put = [&j](const char* name, const at::Tensor& m, const std::string& how) {
        if (!m.defined())
            return;
        j[name] = {{"order", m.size(0)}, {"how", how}, {"checksum", matrixChecksum(m).first}};
    };
    put("residual", r.residual, r.residualHow);
    put("down", r.down, r.downHow);
    put("head", r.head, r.headHow);
    return j.dump();
}

ExportSummary exportSimulated(const DecoderModel& fp, const Session& s, const std::string& outDir, bool overwrite,
                              const CancelToken* cancel, const ProgressSink& progress, int64_t shardBytes)
{
    auto checkCancel = [cancel] {
        if (cancel)
            cancel->check();
    };
    if (!s.settings)
        throw Error("nothing to export: the session has no quantization plan");
    const QuantSettings& st = *s.settings;
    checkPlanBasis(fp, s);
    // SmoothQuant: 1/s folded into the norms (float32), the weights already hold diag(s).
    const std::map<std::string, at::Tensor> norms = smoothedNorms(fp, s);
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
        specs.push_back(TensorSpec{name, linear.count(name) || norms.count(name) ? DType::F32 : ti.dtype, ti.shape});
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
    // Per-token and per-tensor activations: each group's searched clip ratio, and the static
    // per-tensor range of the input as the Linear sees it (smoothed).
    {
        const std::vector<GroupQuant> gq = groupQuantFromPlan(fp, s);
        for (size_t g = 0; g < gq.size(); ++g) {
            const std::string base = "morphoquant." + fp.groups()[g];
            if (gq[g].tokenClip > 0.0 && st.act != ActScheme::PerChannelStatic)
                extra[base + ".act_clip"] = at::full({1}, float(gq[g].tokenClip), at::kFloat);
            if (st.act == ActScheme::PerTensorStatic && st.abits < 16) {
                if (!gq[g].channelMin.defined())
                    throw Error("the plan has no calibration range for input group '" + fp.groups()[g] + "'");
                extra[base + ".act_range"] = at::tensor(std::vector<float>{float(gq[g].rangeMin), float(gq[g].rangeMax)},
                                                        at::TensorOptions().dtype(at::kFloat));
            }
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
    if (!st.rotation.empty())
        qc["rotation"] = nlohmann::json::parse(rotationRecordJson(fp, st.rotation));
    if (st.smooth)
        qc["smoothing"] = "SmoothQuant factors folded: input_layernorm and post_attention_layernorm weights divided by "
                          "them (float32), q/k/v and gate/up weights multiplied by them before quantization";
    cfg["quantization_config"] = qc;

    // The Linear weights in the order they are written: while one is written, the next is read
    // and quantized on another thread (the write is the kernel copying into the page cache, the
    // quantization is arithmetic: a 2-layer 7B-shaped export on 2 cores took 7.6-8.1 s instead of
    // 8.1-9.1 s). One at a time ahead, so q's checkpoint is only ever used by one thread at once
    // and at most two quantized weights are held.
    std::vector<int> linearOrder;
    for (const TensorSpec& spec : specs)
        if (auto it = linear.find(spec.name); it != linear.end())
            linearOrder.push_back(it->second);
    ExportSummary sum;
    int shards = 0;
    sum.dir = writeFolderAtomic(outDir, overwrite, [&](const std::string& dir) {
        const fs::path tmp(dir);
        uint64_t written = 0;
        size_t nextLinear = 0; // linearOrder's next entry to be written
        std::future<at::Tensor> ahead; // its weight, when already under way
        shards = writeShardedCheckpoint(
            dir, specs, shardBytes, false, {{"format", "pt"}, {"producer", "morphoquant"}},
            [&](const TensorSpec& spec, SafetensorsStreamWriter& out) {
                checkCancel();
                auto lin = linear.find(spec.name);
                auto ex = extra.find(spec.name);
                auto nm = norms.find(spec.name);
                if (lin != linear.end()) {
                    at::Tensor wt = ahead.valid() ? ahead.get() : at::Tensor();
                    if (linearOrder[nextLinear] != lin->second || !wt.defined())
                        wt = q.linearWeight(lin->second);
                    if (++nextLinear < linearOrder.size()) {
                        const int m = linearOrder[nextLinear];
                        ahead = std::async(std::launch::async, [&q, m] {
                            c10::InferenceMode guard;
                            return q.linearWeight(m);
                        });
                    }
                    out.write(spec.name, wt);
                } else if (nm != norms.end()) {
                    out.write(spec.name, nm->second);
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

namespace {

// `model` (read from an export whose Linear weights are in the recorded basis already) turned
// into that basis: norms folded, q, the online down_proj h and v_proj's biases as the record's
// key says (DecoderModel::rotated with weightsInBasis). Throws InputError naming cfgPath when
// the record is malformed or this build makes other matrices than the exporting one did.
DecoderModel rotateAsRecorded(const DecoderModel& model, const nlohmann::json& j, const std::string& cfgPath)
{
    const std::string where = cfgPath + ": quantization_config.rotation";
    if (!j.is_object() || !j.contains("key") || !j["key"].is_string())
        throw InputError(where + " must be an object with a string \"key\" (hadamard:SEED or hadamard-heads:SEED)");
    const std::string key = j["key"].get<std::string>();
    if (key.empty() || !validRotationKey(key))
        throw InputError(where + ".key '" + key + "' is not a rotation (expected hadamard:SEED or hadamard-heads:SEED)");
    const Rotation r = makeRotation(model, rotationSeed(key), rotatesHeads(key));
    auto check = [&](const char* name, const at::Tensor& m, const std::string& how) {
        if (!m.defined())
            return;
        if (!j.contains(name) || !j[name].is_object() || !j[name].contains("checksum") || !j[name]["checksum"].is_number()
            || !j[name].contains("order") || !j[name]["order"].is_number_integer())
            throw InputError(where + "." + name + " must hold \"order\" and \"checksum\" numbers");
        if (j[name]["order"].get<int64_t>() != m.size(0))
            throw InputError(where + "." + name + ".order is " + std::to_string(j[name]["order"].get<int64_t>())
                             + " but the model's config makes it " + std::to_string(m.size(0)));
        const auto [sum, scale] = matrixChecksum(m);
        const double recorded = j[name]["checksum"].get<double>();
        // float32 matrices summed in double: equal matrices agree to ~1e-12 of the scale; a
        // different construction (another LAPACK's QR, another seed) differs by far more.
        if (!(std::fabs(sum - recorded) <= 1e-7 * std::max(scale, 1e-30)))
            throw InputError(where + "." + name + ": this build makes a different " + name + " matrix (" + how
                             + ", checksum " + std::to_string(sum) + ") than the export's ("
                             + j[name].value("how", std::string("?")) + ", checksum " + std::to_string(recorded)
                             + "); the rotated weights cannot be read back here");
    };
    check("residual", r.residual, r.residualHow);
    check("down", r.down, r.downHow);
    check("head", r.head, r.headHow);
    try {
        return model.rotated(r.residual, r.down, key, r.head, true);
    } catch (const InputError& e) {
        throw InputError(cfgPath + ": " + e.what());
    }
}

// An export of a rotated plan: its model turned into the recorded basis (settings.rotation and
// quantization_config.rotation must agree).
void rotateIfRecorded(LoadedModel& lm, const nlohmann::json& qc, const std::string& cfgPath)
{
    const std::string key = lm.settings ? lm.settings->rotation : std::string();
    const bool recorded = qc.is_object() && qc.contains("rotation") && !qc["rotation"].is_null();
    if (key.empty() && !recorded)
        return;
    if (key.empty() || !recorded)
        throw InputError(cfgPath + ": quantization_config " + (recorded ? "has a rotation record but its settings name no rotation"
                                                                       : "settings name rotation '" + key + "' but there is no \"rotation\" record"));
    const std::string recordKey = qc["rotation"].is_object() ? qc["rotation"].value("key", std::string()) : std::string();
    if (recordKey != key)
        throw InputError(cfgPath + ": quantization_config.rotation.key '" + recordKey + "' differs from the settings' rotation '"
                         + key + "'");
    lm.model = rotateAsRecorded(lm.model, qc["rotation"], cfgPath);
}

} // namespace

LoadedModel loadModelForEval(const std::string& dir, Residency residency)
{
    const std::string cfgPath = dir + "/config.json";
    if (isPackedConfig(cfgPath)) {
        // Weights dequantized from the packed tensors as they are read, activations as the
        // quantization_config says.
        PackedModelInfo info;
        try {
            info = readPackedConfig(dir);
        } catch (const nlohmann::json::exception& e) { // a value of another type than the format's
            throw InputError(cfgPath + ": quantization_config holds a value of the wrong type (" + e.what() + ")");
        }
        LoadedModel lm{DecoderModel::load(dir, residency, info.prepare), info.settings, {}};
        const nlohmann::json cfg = nlohmann::json::parse(readTextFile(cfgPath), nullptr, false);
        rotateIfRecorded(lm, cfg["quantization_config"], cfgPath);
        lm.groups = packedGroupQuant(dir, lm.model, *lm.settings);
        return lm;
    }
    LoadedModel lm{DecoderModel::load(dir, residency), std::nullopt, {}};
    nlohmann::json cfg = nlohmann::json::parse(readTextFile(cfgPath), nullptr, false);
    if (cfg.is_discarded() || !cfg.contains("quantization_config"))
        return lm;
    const nlohmann::json& qc = cfg["quantization_config"];
    // (Types checked before any value(): nlohmann's own type errors name neither file nor key.)
    if (!qc.is_object())
        throw InputError(cfgPath + ": quantization_config must be a JSON object ({\"quant_method\": \"" + kMethod
                         + "\", ...}), found " + qc.type_name());
    const nlohmann::json method = qc.value("quant_method", nlohmann::json());
    if (!method.is_string() || method.get<std::string>() != kMethod)
        throw InputError(cfgPath + ": quantization_config.quant_method "
                         + (method.is_string() ? "'" + method.get<std::string>() + "'" : method.dump())
                         + " is not supported (expected '" + kMethod + "')");
    const nlohmann::json version = qc.value("format_version", nlohmann::json(0));
    if (!version.is_number_integer())
        throw InputError(cfgPath + ": quantization_config.format_version must be an integer, found " + version.dump());
    if (version.get<int64_t>() > kExportVersion)
        throw InputError(cfgPath + ": export format version " + std::to_string(version.get<int64_t>())
                         + " is newer than this build reads (" + std::to_string(kExportVersion) + ")");
    if (!qc.contains("settings"))
        throw InputError(cfgPath + ": quantization_config has no settings");
    lm.settings = settingsFromJson(qc["settings"].dump(), cfgPath);
    rotateIfRecorded(lm, qc, cfgPath);
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
            // A bound of 0, below 0 or NaN, or a mask entry other than 0 / 1, would quantize
            // silently wrong (a channel zeroed, over-compensated) or end in a NaN perplexity.
            if (!(lm.groups[g].alpha > 0).logical_and(lm.groups[g].alpha.isfinite()).all().item<bool>())
                throw InputError(describe(ck.fileOf(base + ".act_alpha"), base + ".act_alpha",
                                          "holds a clipping bound that is not a positive finite number"));
            if (!((lm.groups[g].mask == 0) | (lm.groups[g].mask == 1)).all().item<bool>())
                throw InputError(describe(ck.fileOf(base + ".dabc_mask"), base + ".dabc_mask",
                                          "holds an entry other than 0 or 1"));
        }
    }
    if (lm.settings->act == ActScheme::PerTokenDynamic || isPerTensor(lm.settings->act)) {
        Checkpoint ck(dir);
        for (size_t g = 0; g < lm.model.groups().size(); ++g) {
            const std::string base = "morphoquant." + lm.model.groups()[g];
            auto small = [&](const std::string& name, int64_t n) {
                if (ck.info(name).numel() != n)
                    throw InputError(describe(ck.fileOf(name), name,
                                              "has " + std::to_string(ck.info(name).numel()) + " entries, expected "
                                                  + std::to_string(n)));
                const at::Tensor t = ck.loadFloat(name);
                if (!t.isfinite().all().item<bool>())
                    throw InputError(describe(ck.fileOf(name), name, "holds a value that is not finite"));
                return t;
            };
            if (ck.contains(base + ".act_clip")) {
                const double c = small(base + ".act_clip", 1).item<double>();
                if (!(c > 0.0 && c <= 1.0))
                    throw InputError(describe(ck.fileOf(base + ".act_clip"), base + ".act_clip",
                                              "holds " + std::to_string(c) + "; expected a clip ratio in (0, 1]"));
                lm.groups[g].tokenClip = c;
            }
            if (lm.settings->act == ActScheme::PerTensorStatic && lm.settings->abits < 16) {
                if (!ck.contains(base + ".act_range"))
                    throw InputError(describe(dir, base + ".act_range", "missing; a morphoquant-sim export with static "
                                                                        "per-tensor activations needs it"));
                const at::Tensor r = small(base + ".act_range", 2);
                lm.groups[g].rangeMin = r[0].item<double>();
                lm.groups[g].rangeMax = r[1].item<double>();
                if (!(lm.groups[g].rangeMin <= lm.groups[g].rangeMax))
                    throw InputError(describe(ck.fileOf(base + ".act_range"), base + ".act_range",
                                              "holds a minimum above its maximum"));
                // (the hook reads the range; channelMin marks it as set)
                lm.groups[g].channelMin = at::full({1}, float(lm.groups[g].rangeMin), at::kFloat);
                lm.groups[g].channelMax = at::full({1}, float(lm.groups[g].rangeMax), at::kFloat);
            }
        }
    }
    return lm;
}

} // namespace mq::core
