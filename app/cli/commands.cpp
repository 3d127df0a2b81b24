#include "commands.h"

#include "args.h"
#include "eval_report.h"
#include "progress_printer.h"
#include "usage.h"

#include "common/dist.h"
#include "common/error.h"
#include "common/runtime.h"
#include "engine.h"
#include "eval/perplexity.h"
#include "export/check_export.h"
#include "export/hf_export.h"
#include "export/packed_export.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/hf_config.h"
#include "io/session_store.h"
#include "io/token_data.h"
#include "model/omni_model.h"
#include "model/synthetic.h"
#include "model/tiny_omni.h"
#include "pipeline.h"
#include "quant/cost.h"
#include "streaming.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <cstdio>
#include <iostream>
#include <thread>

namespace mq::cli {

using nlohmann::json;
namespace core = mq::core;

namespace {

// --report-peak-rss: the process's peak resident memory on stdout (tests and benchmarks).
// The end of a command's report: under MPI the ranks and rank 0's communication volume (on
// stderr: stdout may end with --json's line), then the peak memory where asked.
void reportPeakRss(const Args& a)
{
    if (core::dist::parallel() && core::dist::rank() == 0) {
        std::fprintf(stderr, "mpi          %d ranks; rank 0 exchanged %.3f MB in collectives\n", core::dist::size(),
                     double(core::dist::bytesExchanged()) / 1e6);
        const auto [mine, all] = core::dist::itemsDone();
        if (all > 0) // one rank each: GPTQ's Linears
            std::fprintf(stderr, "mpi          rank 0 ran GPTQ for %lld of %lld Linears; the other ranks, the rest\n",
                         (long long)mine, (long long)all);
    }
    if (a.flag("report-peak-rss"))
        printPeakRss();
}

core::CalibrationSourceSpec calibrationSpec(const std::string& kind, const std::string& path, int batch,
                                            const std::string& rotation)
{
    core::CalibrationSourceSpec spec;
    spec.kind = kind;
    spec.path = path;
    spec.batchSize = batch;
    spec.rotation = rotation;
    return spec;
}

// What the checkpoint holds beside the decoder: Qwen2.5-Omni's encoders, talker and token2wav
// are listed (and carried through an export untouched); tensors of no known component are
// worth a warning, since nothing but a copy happens to them.
void printInventory(const std::string& modelDir)
{
    core::Checkpoint ck(modelDir);
    const std::vector<std::string> names = ck.tensorNames();
    const bool omni = std::any_of(names.begin(), names.end(),
                                  [](const std::string& n) { return n.rfind("thinker.", 0) == 0; });
    const std::vector<std::pair<std::string, std::string>> parts =
        omni ? std::vector<std::pair<std::string, std::string>>{{"thinker.model.", "decoder"},
                                                                {"thinker.lm_head.", "lm_head"},
                                                                {"thinker.visual.", "vision encoder"},
                                                                {"thinker.audio_tower.", "audio encoder"},
                                                                {"talker.", "talker"},
                                                                {"token2wav.", "token2wav"}}
             : std::vector<std::pair<std::string, std::string>>{{"model.", "decoder"}, {"lm_head.", "lm_head"}};
    std::map<std::string, int64_t> counts;
    std::vector<std::string> unknown;
    for (const std::string& name : names) {
        bool known = false;
        for (const auto& [prefix, label] : parts) {
            if (name.rfind(prefix, 0) == 0) {
                ++counts[label];
                known = true;
                break;
            }
        }
        if (!known)
            unknown.push_back(name);
    }
    std::string line;
    for (const auto& [prefix, label] : parts)
        if (counts[label] > 0)
            line += (line.empty() ? "" : ", ") + label + " " + std::to_string(counts[label]);
    std::printf("tensors      %s%s\n", line.c_str(),
                omni ? " (talker and token2wav are carried along untouched)" : "");
    if (!unknown.empty())
        std::fprintf(stderr, "warning: %zu tensors belong to no known component (first: '%s'); they are not used and "
                             "an export copies them unchanged\n",
                     unknown.size(), unknown.front().c_str());
}

void printCalibration(const core::Session& s)
{
    std::printf("calibration  %s: %lld samples;", s.calibration.source.c_str(),
                static_cast<long long>(s.calibration.sequences));
    for (int m = 0; m < core::kNumModalities; ++m)
        if (s.calibration.tokens[size_t(m)] > 0)
            std::printf(" %s %lld", core::modalityName(core::Modality(m)),
                        static_cast<long long>(s.calibration.tokens[size_t(m)]));
    std::printf(" tokens\n");
}

// The JSON keys of the layer errors (fixed: the GUI's tests compare against them).
constexpr const char* kModalityKeys[core::kNumModalities] = {"text", "image", "video", "audio"};

// The KL divergence per modality of the compared positions ({} when none was measured).
json klByModalityJson(const core::EvalResult& e)
{
    json j = json::object();
    for (int m = 0; m < core::kNumModalities; ++m)
        if (e.klByModality[size_t(m)] >= 0.0)
            j[kModalityKeys[m]] = {{"kl", e.klByModality[size_t(m)]}, {"positions", e.tokensByModality[size_t(m)]}};
    return j;
}

// Whether this process writes the command's files: every rank waits here until all are through
// (core/common/dist.h), then rank 0 writes (a single process always).
bool writerRank()
{
    core::dist::barrier();
    return core::dist::rank() == 0;
}

json errorStatJson(const core::ErrorStat& e)
{
    return json{{"tokens", e.tokens}, {"sqnr_db", e.sqnrDb}, {"cosine", e.cosine}};
}

// {"module", "pooled": {...}, "text": {...}, ...}; modalities no token reached are left out.
json moduleErrorJson(const core::ModuleError& me)
{
    json j{{"module", me.module}, {"pooled", errorStatJson(me.pooled)}};
    for (int m = 0; m < core::kNumModalities; ++m)
        if (me.perModality[size_t(m)].tokens > 0)
            j[kModalityKeys[m]] = errorStatJson(me.perModality[size_t(m)]);
    return j;
}

json evalJson(const core::EvalResult& e)
{
    json j{{"nll", e.nll}, {"ppl", e.ppl}, {"tokens", e.tokens}};
    if (e.kl >= 0.0) {
        j["kl"] = e.kl;
        j["kl_by_modality"] = klByModalityJson(e);
    }
    if (!e.encoders.empty()) { // quantized encoders: each one's output error
        json enc = json::array();
        for (const core::ModuleError& me : e.encoders)
            enc.push_back(moduleErrorJson(me));
        j["encoders"] = enc;
    }
    return j;
}

// The module with the lowest pooled SQNR (null when there are no figures).
const core::ModuleError* worstModule(const std::vector<core::ModuleError>& errors)
{
    const core::ModuleError* worst = nullptr;
    for (const core::ModuleError& e : errors)
        if (e.pooled.tokens > 0 && (!worst || e.pooled.sqnrDb < worst->pooled.sqnrDb))
            worst = &e;
    return worst;
}

const core::EvalResult* findEval(const core::Session& s, const std::string& label, const std::string& data)
{
    for (const core::EvalResult& e : s.evals)
        if (e.label == label && e.data == data)
            return &e;
    return nullptr;
}

// What the plan costs as the JSON keys act_bits_effective, act_bits_effective_mac,
// dabc_extra_macs, weight_bits_effective, mode (README, "What a figure costs"); addCost also
// prints it as one line.
void costJson(json& out, const core::QuantCost& c)
{
    out["act_bits_effective"] = c.actBitsEffective;
    out["act_bits_effective_mac"] = c.actBitsEffectiveMac;
    out["act_bits_upper_bound"] = c.actUpperBound;
    out["dabc_extra_macs"] = c.dabcExtraMacs;
    out["dabc_compensated_share"] = c.compensatedShare;
    out["weight_bits_effective"] = c.weightBitsEffective;
    out["mode"] = c.mode;
}

void addCost(json& out, const core::QuantCost& c)
{
    std::printf("cost         %s\n", core::costSummary(c).c_str());
    costJson(out, c);
}

} // namespace

int cmdEval(int argc, char** argv)
{
    const Args a = parseArgs("eval", argc, argv);
    const EvalOptions o = evalOptions(a);
    core::initRuntime(o.threads);
    const std::string& modelDir = o.model;
    const std::string& dataPath = o.data;
    core::LoadedModel lm = core::loadModelForEval(modelDir, core::Residency::Streamed);
    core::TokenDataset data = core::loadTokenDataset(dataPath, lm.model.config().vocabSize, lm.model.config().maxPositions);
    std::unique_ptr<core::QuantSimHook> hook;
    if (lm.settings)
        hook = std::make_unique<core::QuantSimHook>(*lm.settings, lm.groups);
    ProgressPrinter pp(a.flag("quiet"));
    core::NllResult r;
    double kl = -1.0;
    core::NllResult ref;
    if (!o.reference.empty()) {
        const core::DecoderModel fp = core::DecoderModel::load(o.reference, core::Residency::Streamed);
        const core::ModelConfig& a1 = fp.config();
        const core::ModelConfig& b1 = lm.model.config();
        if (a1.hiddenSize != b1.hiddenSize || a1.vocabSize != b1.vocabSize || fp.numLayers() != lm.model.numLayers())
            throw core::InputError(o.reference + ": the reference model's shape (hidden, vocabulary, layers) is not "
                                   + modelDir + "'s");
        const core::EvalPair pair =
            core::evaluatePairStreamed(fp, lm.model, hook.get(), data, o.batch, pp.sink(), nullptr, o.stream);
        r = pair.quantized;
        ref = pair.ref;
        kl = pair.kl;
    } else {
        r = core::evaluateStreamed(lm.model, data, hook.get(), o.batch, pp.sink(), nullptr, o.stream);
    }
    pp.finishLine();
    const std::string label = lm.settings ? lm.settings->label() : "full precision";
    if (kl >= 0.0)
        printNll("reference " + o.reference, ref.nll, ref.ppl, ref.tokens);
    printNll(label, r.nll, r.ppl, r.tokens);
    if (kl >= 0.0)
        std::printf("%-28s %.6f nats per token against the reference\n", "KL divergence", kl);
    if (a.flag("json")) {
        json j = evalJsonLine(r.nll, r.ppl, r.tokens, modelDir, dataPath, label, bool(lm.settings), "engine");
        if (kl >= 0.0) {
            j["kl"] = kl;
            j["reference"] = nllJson(ref.nll, ref.ppl, ref.tokens);
        }
        std::cout << j.dump() << std::endl;
    }
    reportPeakRss(a);
    return 0;
}

int cmdQuantize(int argc, char** argv)
{
    const Args a = parseArgs("quantize", argc, argv);
    QuantizeOptions o = quantizeOptions(a);
    core::initRuntime(o.threads);
    core::enableCudaKernels(o.cuda);
    if (!o.settingsFile.empty()) { // --settings: the recipe as a session stores it, rotation included
        o.settings = core::settingsFromJson(core::readTextFile(o.settingsFile), o.settingsFile);
        o.rotation = o.settings.rotation;
        o.wbits = o.settings.weight.format == core::WeightFormat::None ? 16 : o.settings.weight.bits;
        if (o.settings.quantizeEncoders && o.calibKind != "manifest")
            throw core::InputError(o.settingsFile + ": quantize_encoders needs --manifest");
        const std::string why = core::exportRefusal(o.settings, o.exportFormat);
        if (!o.exportDir.empty() && !why.empty())
            throw core::InputError(o.settingsFile + ": " + why + "; nothing was run");
    }
    // A packed integer export stores the scales in the model's dtype: the quantizer rounds them
    // to it first, so that the export is the plan evaluated here.
    if (!o.scaleDtypeGiven && o.settings.weight.format == core::WeightFormat::Int
        && (o.exportFormat == core::ExportFormat::CompressedTensors || o.exportFormat == core::ExportFormat::Morphoquant))
        o.settings.weight.scaleDtype = core::modelScaleDtype(o.model);
    const core::QuantSettings& st = o.settings;
    const int wbits = o.wbits, batch = o.batch;
    const core::CalibrationSourceSpec calibSpec = calibrationSpec(o.calibKind, o.calibPath, batch, o.rotation);
    const std::string& modelDir = o.model;
    const std::string &sessionPath = o.session, &exportDir = o.exportDir, &evalPath = o.evalPath;

    ProgressPrinter pp(a.flag("quiet"));
    core::Engine engine;
    engine.streamOptions = o.stream;
    engine.keepPreviewCache = false; // no live preview on the command line
    core::Session session;
    engine.openModel(session, modelDir, pp.sink());
    if (!exportDir.empty()) { // a plan the export format cannot hold fails now, not after the work
        const std::string why = core::exportRefusal(st, o.exportFormat, session.modules);
        if (!why.empty())
            throw core::InputError(why + "; nothing was run");
    }
    // Plan settings that depend on the model's shapes fail now, not after the calibration:
    // integer weight groups must divide every decoder Linear's input width, and a forced mask
    // kind must name a module kind of this model.
    if (st.weight.format == core::WeightFormat::Int && st.weight.groupSize > 0)
        for (const core::ModuleInfo& m : session.modules)
            if (m.inFeatures % st.weight.groupSize != 0)
                throw core::InputError("--group-size " + std::to_string(st.weight.groupSize) + " does not divide "
                                       + m.name + "'s " + std::to_string(m.inFeatures)
                                       + " inputs; nothing was run");
    for (const std::string& kind : st.dabc.forceKinds)
        if (std::none_of(session.modules.begin(), session.modules.end(),
                         [&](const core::ModuleInfo& m) { return m.kind == kind; }))
            throw core::InputError("--force-mask " + kind + " names no module kind of " + modelDir + "; nothing was run");
    if (!evalPath.empty()) { // a bad evaluation file fails now, not after the quantization
        const core::ModelConfig cfg =
            core::parseModelConfig(json::parse(session.model.configJson), modelDir + "/config.json");
        core::loadTokenDataset(evalPath, cfg.vocabSize, cfg.maxPositions);
    }
    engine.calibrate(session, calibSpec, pp.sink());
    engine.quantize(session, st, pp.sink());
    pp.finishLine();

    json out{{"command", "quantize"}, {"model", modelDir}, {"method", st.method}, {"wbits", wbits},
             {"abits", st.abits}, {"label", session.settings->label()}};
    std::printf("model        %s (%s, %zu Linear modules, %zu input groups)\n", modelDir.c_str(),
                session.model.architecture.c_str(), session.modules.size(), session.groups.size());
    printInventory(modelDir);
    printCalibration(session);
    std::printf("method       %s\n", session.settings->label().c_str());
    {
        std::string passes;
        for (const std::string& p : session.settings->passes())
            passes += (passes.empty() ? "" : " -> ") + p;
        std::printf("recipe       %s\n", passes.empty() ? "full precision" : passes.c_str());
    }
    addCost(out, core::quantCost(session));
    if (st.method == "morphoquant") {
        const core::ChannelCount c = core::maskedChannels(session); // the decoder's groups: what the plan quantizes
        const std::vector<std::string> decoder = core::decoderGroups(session);
        const std::set<std::string> decoderSet(decoder.begin(), decoder.end());
        double first = 0, last = 0, encFirst = 0, encLast = 0;
        for (const auto& curve : session.curves) {
            const bool enc = !decoderSet.count(curve.group);
            (enc ? encFirst : first) += curve.points.front().total;
            (enc ? encLast : last) += curve.points.back().total;
        }
        std::printf("DABC         %lld of %lld input channels compensated (k=%.3g, %s scores)\n",
                    static_cast<long long>(c.masked), static_cast<long long>(c.total), st.dabc.k,
                    core::dispersionFormName(st.dabc.form));
        if (!session.curves.empty())
            std::printf("MDQFO        morphology loss summed over groups %.6g -> %.6g\n", first, last);
        out["dabc_masked_channels"] = c.masked;
        out["dabc_total_channels"] = c.total;
        out["mdqfo_loss_initial"] = first;
        out["mdqfo_loss_final"] = last;
        if (st.quantizeEncoders) { // the encoder groups' masks and loss, apart from the decoder's
            int64_t groups = 0, masked = 0, total = 0;
            for (const std::string& g : session.groups) {
                auto p = session.plans.find(g);
                if (decoderSet.count(g) || p == session.plans.end())
                    continue;
                ++groups;
                total += int64_t(p->second.mask.size());
                for (uint8_t b : p->second.mask)
                    masked += b;
            }
            std::printf("encoders     %lld input groups quantized; DABC %lld of %lld channels; MDQFO loss %.6g -> %.6g\n",
                        static_cast<long long>(groups), static_cast<long long>(masked), static_cast<long long>(total),
                        encFirst, encLast);
            out["encoder_groups"] = groups;
            out["encoder_dabc_masked_channels"] = masked;
            out["encoder_dabc_total_channels"] = total;
            out["encoder_mdqfo_loss_initial"] = encFirst;
            out["encoder_mdqfo_loss_final"] = encLast;
        }
    }
    if (st.gptq.enabled) {
        std::printf("GPTQ         %zu Linear weights chosen from their calibration inputs%s\n", session.weights.size(),
                    st.gptq.fpTarget ? " (aimed at the full-precision outputs)" : "");
        out["gptq_linears"] = session.weights.size();
    }
    out["rotation"] = session.calibration.rotation;
    if (const core::ModuleError* worst = worstModule(session.errors)) {
        std::printf("errors       worst layer SQNR %.2f dB (cosine %.5f) at %s, over %lld calibration tokens\n",
                    worst->pooled.sqnrDb, worst->pooled.cosine, worst->module.c_str(),
                    static_cast<long long>(worst->pooled.tokens));
        out["worst_module"] = worst->module;
        out["worst_sqnr_db"] = worst->pooled.sqnrDb;
    }

    if (!evalPath.empty()) {
        engine.evaluate(session, evalPath, a.flag("eval-fp"), batch, pp.sink());
        pp.finishLine();
        if (a.flag("eval-fp")) {
            const core::EvalResult* fp = findEval(session, "full precision", evalPath);
            printNll(fp->label, fp->nll, fp->ppl, fp->tokens);
            out["fp"] = evalJson(*fp);
        }
        const core::EvalResult* q = findEval(session, session.settings->label(), evalPath);
        printNll(q->label, q->nll, q->ppl, q->tokens);
        std::printf("%-28s %.6f nats per token against full precision\n", "KL divergence", q->kl);
        out["nll"] = q->nll;
        out["ppl"] = q->ppl;
        out["tokens"] = q->tokens;
        out["kl"] = q->kl;
    }
    if (!o.evalManifest.empty()) {
        engine.evaluateManifest(session, o.evalManifest, false, pp.sink());
        pp.finishLine();
        const core::EvalResult* q = findEval(session, session.settings->label(), o.evalManifest);
        printNll(q->label + " (manifest)", q->nll, q->ppl, q->tokens);
        for (int m = 0; m < core::kNumModalities; ++m)
            if (q->klByModality[size_t(m)] >= 0.0)
                std::printf("KL %-25s %.6f nats over %lld positions\n", kModalityKeys[m], q->klByModality[size_t(m)],
                            static_cast<long long>(q->tokensByModality[size_t(m)]));
        for (const core::ModuleError& me : q->encoders)
            for (int m = -1; m < core::kNumModalities; ++m) {
                const core::ErrorStat& st = m < 0 ? me.pooled : me.perModality[size_t(m)];
                if (st.tokens > 0)
                    std::printf("encoder %-6s %-7s SQNR %7.2f dB, cosine %.6f over %lld tokens\n", me.module.c_str(),
                                m < 0 ? "pooled" : kModalityKeys[m], st.sqnrDb, st.cosine,
                                static_cast<long long>(st.tokens));
            }
        out["manifest_eval"] = evalJson(*q);
    }
    // Under MPI rank 0 alone writes, once every rank's work is in (a rank that failed has ended
    // the job by now).
    const bool writer = writerRank();
    // The export first, then the session that records it: a kill in between leaves the old
    // session, which inspect then reports as not matching the export.
    if (!exportDir.empty() && writer) {
        const core::ExportReport ex =
            engine.exportModel(session, exportDir, a.flag("overwrite"), pp.sink(), nullptr, o.exportFormat);
        pp.finishLine();
        std::printf("export       %s (%s, %lld tensors, %.2f MB)\n", ex.dir.c_str(), ex.representation.c_str(),
                    static_cast<long long>(ex.tensors), double(ex.bytes) / 1e6);
        out["export"] = ex.dir;
        out["export_format"] = core::exportFormatName(o.exportFormat);
        if (ex.checked) {
            const std::string verdict = ex.scheme.empty() ? "passes; served by no vLLM scheme: " + ex.schemeWhy
                                                          : "passes; vLLM scheme " + ex.scheme;
            std::printf("export check %s\n", verdict.c_str());
            out["export_scheme"] = ex.scheme;
        }
        session.exported = core::ExportRef{ex.dir, core::modelFingerprint(ex.dir)};
    }
    if (!sessionPath.empty() && writer) {
        core::saveSession(session, sessionPath);
        std::printf("session      %s\n", sessionPath.c_str());
        out["session"] = sessionPath;
    }
    if (a.flag("json"))
        std::cout << out.dump() << std::endl;
    reportPeakRss(a);
    return 0;
}

namespace {

struct Recipe {
    std::string name, options;
    QuantizeOptions q;
};

// The recipes of a sweep file, each checked as quantize checks its command line.
std::vector<Recipe> readRecipes(const SweepOptions& o)
{
    std::vector<Recipe> out;
    const std::vector<RecipeSpec> specs = readRecipeFile(o.recipes);
    for (size_t i = 0; i < specs.size(); ++i) {
        Recipe rec;
        rec.name = specs[i].name;
        rec.options = specs[i].options;
        try {
            rec.q = recipeOptions(o, specs[i].tokens);
        } catch (const UsageError& e) {
            throw core::InputError(o.recipes + ": recipe " + std::to_string(i + 1) + " ('" + rec.name + "'): " + e.what());
        }
        out.push_back(std::move(rec));
    }
    return out;
}

} // namespace

int cmdSweep(int argc, char** argv)
{
    const Args a = parseArgs("sweep", argc, argv);
    const SweepOptions o = sweepOptions(a);
    const std::vector<Recipe> recipes = readRecipes(o); // every recipe checked before any runs
    core::initRuntime(o.threads);
    core::enableCudaKernels(o.cuda);
    const std::string evalPath = o.eval.empty() ? o.evalManifest : o.eval;
    {
        std::ifstream probe(evalPath);
        if (!probe)
            throw core::InputError(evalPath + ": cannot open the evaluation file");
    }
    const bool manifest = !o.evalManifest.empty();
    ProgressPrinter pp(a.flag("quiet"));
    core::Engine engine;
    engine.streamOptions = o.stream;
    engine.keepPreviewCache = false;
    core::Session opened;
    engine.openModel(opened, o.model, pp.sink());
    std::map<std::string, core::Session> calibrated; // by rotation key
    json rows = json::array();
    std::printf("%-44s %9s %8s %7s %7s %7s %7s %8s%s\n", "recipe", "PPL", "KL", "A bits", "A/MAC", "+MACs", "W bits",
                "seconds", manifest ? "   KL text   image   video   audio" : "");
    json fp;
    for (const Recipe& r : recipes) {
        const auto t0 = std::chrono::steady_clock::now();
        auto it = calibrated.find(r.q.rotation);
        if (it == calibrated.end()) {
            core::Session s = opened;
            engine.calibrate(s, calibrationSpec(o.calibKind, o.calib, o.batch, r.q.rotation), pp.sink());
            it = calibrated.emplace(r.q.rotation, std::move(s)).first;
        }
        core::Session s = it->second;
        engine.quantize(s, r.q.settings, pp.sink());
        const bool fpToo = fp.is_null();
        if (manifest)
            engine.evaluateManifest(s, evalPath, fpToo, pp.sink());
        else
            engine.evaluate(s, evalPath, fpToo, o.batch, pp.sink());
        pp.finishLine();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (fpToo) {
            const core::EvalResult* f = findEval(s, "full precision", evalPath);
            fp = evalJson(*f);
            std::printf("%-44s %9.4f\n", "full precision", f->ppl);
        }
        const core::EvalResult* e = findEval(s, s.settings->label(), evalPath);
        const core::QuantCost c = core::quantCost(s);
        std::printf("%-44s %9.4f %8.4f %7.2f %7.2f %6.1f%% %7.2f %8.1f", r.name.c_str(), e->ppl, e->kl,
                    c.actBitsEffective, c.actBitsEffectiveMac, 100.0 * c.dabcExtraMacs, c.weightBitsEffective, seconds);
        if (manifest)
            for (int m = 0; m < core::kNumModalities; ++m)
                std::printf(" %7.4g", e->klByModality[size_t(m)]);
        std::printf("\n");
        std::fflush(stdout);
        json row = evalJson(*e);
        costJson(row, c);
        row["name"] = r.name;
        row["options"] = r.options;
        row["label"] = s.settings->label();
        row["seconds"] = seconds;
        rows.push_back(std::move(row));
    }
    if (a.flag("json"))
        std::cout << json{{"command", "sweep"}, {"model", o.model}, {"fp", fp}, {"recipes", rows}}.dump() << std::endl;
    return 0;
}

int cmdCheckExport(int argc, char** argv)
{
    const Args a = parseArgs("check-export", argc, argv);
    const CheckExportOptions o = checkExportOptions(a);
    const core::ExportCheck c = core::checkExport(o.dir);
    std::printf("folder       %s\n", o.dir.c_str());
    std::printf("method       %s%s%s\n", c.quantMethod.empty() ? "none" : c.quantMethod.c_str(),
                c.format.empty() ? "" : ", format ", c.format.c_str());
    if (c.packedLinears || c.ignoredLinears)
        std::printf("linears      %d packed, %d in ignore (kept unquantized)\n", c.packedLinears, c.ignoredLinears);
    for (const std::string& e : c.errors)
        std::printf("ERROR        %s\n", e.c_str());
    for (const std::string& w : c.warnings)
        std::printf("warning      %s\n", w.c_str());
    if (!c.scheme.empty())
        std::printf("vLLM         %s\n", c.scheme.c_str());
    else
        std::printf("vLLM         no scheme: %s\n", c.why.c_str());
    std::printf("verdict      %s\n", c.ok() ? "passes the loading rules" : "FAILS the loading rules");
    if (a.flag("json")) {
        json j = json::parse(core::exportCheckJson(c));
        j["command"] = "check-export";
        std::cout << j.dump() << std::endl;
    }
    return c.ok() ? 0 : 1;
}

int cmdCalibrate(int argc, char** argv)
{
    const Args a = parseArgs("calibrate", argc, argv);
    const CalibrateOptions o = calibrateOptions(a);
    core::initRuntime(o.threads);
    core::enableCudaKernels(o.cuda);
    const core::CalibrationSourceSpec calibSpec = calibrationSpec(o.calibKind, o.calibPath, o.batch, o.rotation);
    const std::string &modelDir = o.model, &sessionPath = o.session;
    ProgressPrinter pp(a.flag("quiet"));
    core::Engine engine;
    engine.streamOptions = o.stream;
    core::Session session;
    engine.openModel(session, modelDir, pp.sink());
    engine.calibrate(session, calibSpec, pp.sink());
    pp.finishLine();
    printInventory(modelDir);
    if (writerRank()) // under MPI rank 0 alone, once every rank is through
        core::saveSession(session, sessionPath);
    printCalibration(session);
    std::printf("session      %s (%zu input groups)\n", sessionPath.c_str(), session.groups.size());
    if (a.flag("json")) {
        json mods = json::object();
        for (int m = 0; m < core::kNumModalities; ++m)
            mods[core::modalityName(core::Modality(m))] = session.calibration.tokens[size_t(m)];
        std::cout << json{{"command", "calibrate"}, {"session", sessionPath}, {"groups", session.groups.size()},
                          {"samples", session.calibration.sequences}, {"modalities", mods}}
                         .dump()
                  << std::endl;
    }
    reportPeakRss(a);
    return 0;
}

int cmdMakeSynthetic(int argc, char** argv)
{
    const Args a = parseArgs("make-synthetic", argc, argv);
    const SyntheticOptions o = syntheticOptions(a);
    core::SyntheticSpec spec;
    spec.shape = o.shape;
    spec.layers = o.layers;
    spec.seed = uint64_t(o.seed);
    spec.calibSequences = o.calibSequences.value_or(spec.calibSequences);
    spec.evalSequences = o.evalSequences.value_or(spec.evalSequences);
    spec.sequenceLength = o.sequenceLength.value_or(spec.sequenceLength);
    ProgressPrinter pp(a.flag("quiet"));
    const core::SyntheticSummary s = core::writeSynthetic(o.dir, spec, a.flag("overwrite"), pp.sink());
    pp.finishLine();
    std::printf("synthetic %s  %s: %d layers, %lld tensors, %lld parameters (bf16, %.2f GB), %d shards\n",
                spec.shape.c_str(), s.dir.c_str(), s.layers, static_cast<long long>(s.tensors),
                static_cast<long long>(s.parameters), double(s.bytes) / 1e9, s.shards);
    if (a.flag("json"))
        std::cout << json{{"command", "make-synthetic"}, {"dir", s.dir}, {"shape", spec.shape}, {"layers", s.layers},
                          {"tensors", s.tensors}, {"parameters", s.parameters}, {"bytes", s.bytes},
                          {"shards", s.shards}}
                         .dump()
                  << std::endl;
    return 0;
}

int cmdMakeTinyOmni(int argc, char** argv)
{
    const Args a = parseArgs("make-tiny-omni", argc, argv);
    const TinyOmniOptions o = tinyOmniOptions(a);
    core::TinyOmniSummary s = core::writeTinyOmni(o.dir, uint64_t(o.seed), a.flag("overwrite"));
    std::printf("tiny Qwen2.5-Omni  %s: %lld tensors, %lld parameters (bf16), %d shards\n", s.dir.c_str(),
                static_cast<long long>(s.tensors), static_cast<long long>(s.parameters), s.shards);
    if (a.flag("json"))
        std::cout << json{{"command", "make-tiny-omni"}, {"dir", s.dir}, {"tensors", s.tensors},
                          {"parameters", s.parameters}, {"shards", s.shards}}
                         .dump()
                  << std::endl;
    return 0;
}

int cmdInspect(int argc, char** argv)
{
    const Args a = parseArgs("inspect", argc, argv);
    const std::string path = inspectPath(a);
    const core::Session s = core::loadSession(path);
    json j;
    j["command"] = "inspect";
    j["session"] = path;
    j["model"] = {{"path", s.model.path}, {"fingerprint", s.model.fingerprint},
                  {"architecture", s.model.architecture}};
    json mods = json::object();
    for (int m = 0; m < core::kNumModalities; ++m)
        mods[core::modalityName(core::Modality(m))] = s.calibration.tokens[size_t(m)];
    j["calibration"] = {{"source", s.calibration.source}, {"kind", s.calibration.kind},
                        {"batch_size", s.calibration.batchSize}, {"sequences", s.calibration.sequences},
                        {"tokens", s.calibration.totalTokens()}};
    j["modalities"] = mods;
    json modules = json::array();
    for (const auto& m : s.modules)
        modules.push_back({{"name", m.name}, {"kind", m.kind}, {"layer", m.layer}, {"input_group", m.inputGroup},
                           {"in_features", m.inFeatures}, {"out_features", m.outFeatures}});
    j["modules"] = modules;
    json groups = json::array();
    for (const std::string& g : s.groups) {
        json gj{{"name", g}};
        auto st = s.stats.find(g);
        if (st != s.stats.end()) {
            gj["channels"] = st->second.pooled.channels;
            gj["tokens"] = st->second.pooled.count;
        }
        auto p = s.plans.find(g);
        if (p != s.plans.end()) {
            int64_t masked = 0;
            for (uint8_t b : p->second.mask)
                masked += b;
            gj["masked_channels"] = masked;
            gj["tau_local"] = p->second.tauLocal;
            gj["tau_global"] = p->second.tauGlobal;
        }
        for (const auto& c : s.curves) {
            if (c.group == g && !c.points.empty()) {
                gj["mdqfo_steps"] = c.points.size() - 1;
                gj["mdqfo_loss_initial"] = c.points.front().total;
                gj["mdqfo_loss_final"] = c.points.back().total;
            }
        }
        groups.push_back(gj);
    }
    j["groups"] = groups;
    j["methods"] = json::array();
    if (s.settings) {
        j["methods"].push_back(s.settings->method);
        j["settings"] = json::parse(core::settingsToJson(*s.settings));
        j["label"] = s.settings->label();
    }
    json evals = json::array();
    for (const auto& e : s.evals) {
        json ej = evalJson(e);
        ej["label"] = e.label;
        ej["data"] = e.data;
        evals.push_back(ej);
    }
    j["evals"] = evals;
    json errors = json::array();
    for (const auto& me : s.errors)
        errors.push_back(moduleErrorJson(me));
    j["errors"] = errors;

    if (s.exported) {
        // Whether the export folder is still the one written with this session.
        std::string state = "matches";
        std::error_code ec;
        if (!std::filesystem::is_directory(s.exported->path, ec)) {
            state = "missing";
        } else {
            try {
                if (core::modelFingerprint(s.exported->path) != s.exported->fingerprint)
                    state = "changed";
            } catch (const std::exception&) {
                state = "unreadable";
            }
        }
        j["export"] = {{"path", s.exported->path}, {"fingerprint", s.exported->fingerprint}, {"state", state}};
    }
    std::printf("session      %s\n", path.c_str());
    if (s.exported)
        std::printf("export       %s (%s)\n", s.exported->path.c_str(),
                    j["export"]["state"] == "matches" ? "matches this session"
                    : j["export"]["state"] == "missing" ? "MISSING: the folder is gone"
                                                        : "DOES NOT MATCH this session: written or changed since");
    std::printf("model        %s (%s, %s)\n", s.model.path.c_str(), s.model.architecture.c_str(),
                s.model.fingerprint.c_str());
    std::printf("modules      %zu Linear modules in %zu input groups\n", s.modules.size(), s.groups.size());
    std::printf("calibration  %s: %lld sequences;", s.calibration.source.c_str(),
                static_cast<long long>(s.calibration.sequences));
    for (int m = 0; m < core::kNumModalities; ++m)
        std::printf(" %s %lld", core::modalityName(core::Modality(m)),
                    static_cast<long long>(s.calibration.tokens[size_t(m)]));
    std::printf(" tokens\n");
    if (s.settings) {
        std::printf("plan         %s\n", s.settings->label().c_str());
        addCost(j, core::quantCost(s));
    }
    for (const auto& g : groups) {
        std::printf("  %-24s K=%-5lld", g["name"].get<std::string>().c_str(),
                    static_cast<long long>(g.value("channels", int64_t(0))));
        if (g.contains("masked_channels"))
            std::printf(" masked %-4lld", static_cast<long long>(g["masked_channels"].get<int64_t>()));
        if (g.contains("mdqfo_loss_initial"))
            std::printf(" MDQFO loss %.5g -> %.5g", g["mdqfo_loss_initial"].get<double>(),
                        g["mdqfo_loss_final"].get<double>());
        std::printf("\n");
    }
    for (const auto& e : s.evals) {
        std::printf("eval         %-40s nll %.6f ppl %.4f (%lld tokens)", e.label.c_str(), e.nll, e.ppl,
                    static_cast<long long>(e.tokens));
        if (e.kl >= 0.0)
            std::printf(" KL %.6f", e.kl);
        std::printf("\n");
    }
    if (!s.errors.empty()) {
        std::printf("layer errors of the plan (SQNR in dB; per modality where it has tokens)\n");
        std::printf("  %-36s %8s %9s %9s", "module", "SQNR", "cosine", "tokens");
        for (const char* m : kModalityKeys)
            std::printf(" %8s", m);
        std::printf("\n");
        for (const auto& me : s.errors) {
            std::printf("  %-36s %8.2f %9.6f %9lld", me.module.c_str(), me.pooled.sqnrDb, me.pooled.cosine,
                        static_cast<long long>(me.pooled.tokens));
            for (const auto& e : me.perModality) {
                if (e.tokens > 0)
                    std::printf(" %8.2f", e.sqnrDb);
                else
                    std::printf(" %8s", "-");
            }
            std::printf("\n");
        }
    }
    if (a.flag("json"))
        std::cout << j.dump() << std::endl;
    return 0;
}

} // namespace mq::cli
