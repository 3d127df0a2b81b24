#include "commands.h"

#include "args.h"
#include "progress_printer.h"

#include "common/error.h"
#include "common/runtime.h"
#include "engine.h"
#include "eval/perplexity.h"
#include "export/hf_export.h"
#include "io/checkpoint.h"
#include "io/hf_config.h"
#include "io/session_store.h"
#include "io/token_data.h"
#include "model/omni_model.h"
#include "model/synthetic.h"
#include "model/tiny_omni.h"
#include "pipeline.h"
#include "streaming.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <thread>

#include <sys/resource.h>

namespace mq::cli {

using nlohmann::json;
namespace core = mq::core;

namespace {

const char* kEvalHelp = R"(usage: morphoquant-cli eval --model DIR --data FILE [options]

Mean next-token NLL and perplexity of a model folder over a JSONL token file. A folder written
by `quantize --export` is evaluated as the quantized model it holds.

  --model DIR     Hugging Face folder (config.json + safetensors)
  --data FILE     JSONL, one {"input_ids": [...]} per line
  --batch N       sequences per forward (default 8)
  --threads N     CPU threads, libtorch's and OpenBLAS's (default: all cores)
  --mem-budget S  hidden states kept in memory (default 4G); past it they are spilled to a
                  temporary file. Weights are streamed from the checkpoint one layer at a time.
  --json          last line of stdout is one JSON object {nll, ppl, tokens, ...}
  --quiet         no progress on stderr
)";

const char* kQuantizeHelp = R"(usage: morphoquant-cli quantize --model DIR --calib FILE --method {rtn,morphoquant}
                             --wbits N --abits N [options]

Calibrates on FILE, builds the quantization plan, measures each Linear's output error under
it (SQNR and cosine on two calibration batches; kept in --session) and reports (with --eval)
the perplexity of the simulated quantized model. rtn: round-to-nearest weights and per-token dynamic activations.
morphoquant: static per-channel activations whose clipping bounds MDQFO learns, with DABC
compensation of the outlier channels (Eqs. 6-10 of DESIGN.md).

  --model DIR          Hugging Face folder
  --calib FILE         JSONL token file for calibration
  --manifest FILE      instead of --calib: a Qwen2.5-Omni calibration manifest (JSONL of
                       {"text", "image", "audio", "video"}; see README)
  --method M           rtn | morphoquant
  --wbits N            weight bits: 4, 8 or 16 (16 = unquantized)
  --abits N            activation bits: 4, 8 or 16 (16 = unquantized)
  --wformat F          int (default) | int4 | int8 | nf4 (NF4: block 64, fp32 absmax)
  --group-size N       integer weights: scale per group of N inputs (default: per channel)
  --asym               integer weights: asymmetric (min/max) instead of symmetric
  --eval FILE          evaluate the quantized model on a JSONL token file
  --eval-fp            also evaluate the full-precision model on --eval FILE
  --session OUT.mqs    write the session (statistics, plan, loss curves, figures)
  --export OUTDIR      write the quantized model as an HF folder (`eval --model` reloads it)
  --overwrite          allow --export to replace an existing folder
  --threads N          CPU threads, libtorch's and OpenBLAS's (default: all cores)
  --batch N            sequences per forward (default 8)
  --mem-budget S       hidden states kept in memory (default 4G, e.g. 512M); past it they go
                       to a temporary file. Every stage runs layer by layer, reading one layer's
                       weights at a time from the checkpoint.
  --json               last line of stdout is one JSON object
  --quiet              no progress on stderr
 DABC:
  --k X                threshold mu + k*sigma (default 2)
  --no-local           switch the per-module threshold off
  --no-global          switch the all-modules threshold off
  --score F            dispersion form: code (default, the authors' code) | paper (Eq. 5)
  --rho X              compensate only |x| > rho*alpha in masked channels (default 0)
  --force-mask KIND    mask every channel of this module kind (repeatable; default down_proj,
                       as the authors' code; `--force-mask none` for the pure Eq. 6)
  --any-modality       mask a channel that is an outlier for any modality (default: pooled scores)
  --no-dabc            no compensation
 MDQFO:
  --solver S           grid (default) | adam
  --p X                L_p exponent (default 2)
  --lambda-cos X       weight of the cosine term (default 1)
  --ratios N           grid points over [0.6, 1] (default 15)
  --adam-steps N       Adam steps per group (default 100)
  --mdqfo-tokens N     rows MDQFO optimizes on per group (default: every n-th row so that
                       rows x channels <= 2^24; alpha0 = max|X_c| always uses every row;
                       0 = every row)
  --no-mdqfo           keep alpha = max|X_c|
)";

const char* kMakeTinyOmniHelp = R"(usage: morphoquant-cli make-tiny-omni OUTDIR [--seed N] [--overwrite] [--json]

Writes a tiny Qwen2.5-Omni checkpoint: the released models' config keys, tensor names and
bf16 dtype in two shards with model.safetensors.index.json, and a small byte-level BPE
tokenizer.json. Hidden size 64, so tests and demos run it in seconds.
)";

const char* kInspectHelp = R"(usage: morphoquant-cli inspect SESSION.mqs [--json]

Prints what a session holds: model, modules, calibration token counts per modality, DABC
masks, the method and its settings, MDQFO losses, evaluation figures and the layer errors of
the plan (per Linear: SQNR and cosine of its output, pooled and per modality). With --json the
last line also carries them: "errors": [{"module", "pooled": {"tokens", "sqnr_db", "cosine"},
"text": {...}, ...}] (modalities without tokens left out).
)";

bool wantsHelp(int argc, char** argv)
{
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h")
            return true;
    }
    return false;
}

void setThreads(const Args& a)
{
    core::initRuntime(a.intValue("threads", 0));
}

// --report-peak-rss: the process's peak resident memory on stdout (tests and benchmarks).
void reportPeakRss(const Args& a)
{
    if (!a.flag("report-peak-rss"))
        return;
    struct rusage ru {};
    ::getrusage(RUSAGE_SELF, &ru);
    std::printf("peak_rss_kib %ld\n", long(ru.ru_maxrss));
}

core::StreamOptions streamOptions(const Args& a)
{
    core::StreamOptions o;
    if (a.has("mem-budget")) {
        try {
            o.memBudget = core::parseByteSize(a.value("mem-budget"));
        } catch (const core::InputError& e) {
            throw UsageError(std::string("--mem-budget: ") + e.what());
        }
    }
    return o;
}

json nllJson(const core::NllResult& r)
{
    return json{{"nll", r.nll}, {"ppl", r.ppl}, {"tokens", r.tokens}};
}

void printNll(const std::string& label, double nll, double ppl, int64_t tokens)
{
    std::printf("%-28s nll %.6f  ppl %.4f  tokens %lld\n", label.c_str(), nll, ppl, static_cast<long long>(tokens));
}

void requireOneCalibrationSource(const Args& a)
{
    if (a.has("calib") == a.has("manifest"))
        throw UsageError("give exactly one of --calib FILE and --manifest FILE");
}

// --calib FILE (token JSONL) or --manifest FILE (Qwen2.5-Omni), exactly one of them.
core::CalibrationSourceSpec calibrationSource(const Args& a, int batch)
{
    requireOneCalibrationSource(a);
    core::CalibrationSourceSpec spec;
    spec.kind = a.has("calib") ? "tokens" : "manifest";
    spec.path = a.value(a.has("calib") ? "calib" : "manifest");
    spec.batchSize = batch;
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

json evalJson(const core::EvalResult& e)
{
    return json{{"nll", e.nll}, {"ppl", e.ppl}, {"tokens", e.tokens}};
}

// The JSON keys of the layer errors (fixed: the GUI's tests compare against them).
constexpr const char* kModalityKeys[core::kNumModalities] = {"text", "image", "video", "audio"};

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

core::WeightQuantSpec weightSpec(const Args& a, int wbits)
{
    core::WeightQuantSpec w;
    std::string f = a.value("wformat", "int");
    if (wbits >= 16) {
        if (a.has("wformat") && f != "none")
            throw UsageError("--wformat " + f + " needs --wbits 4 or 8");
        return w;
    }
    if (f == "int4" || f == "int8") {
        if (std::stoi(f.substr(3)) != wbits)
            throw UsageError("--wformat " + f + " contradicts --wbits " + std::to_string(wbits));
        f = "int";
    }
    if (f == "nf4") {
        if (wbits != 4)
            throw UsageError("--wformat nf4 is a 4-bit format; got --wbits " + std::to_string(wbits));
        w.format = core::WeightFormat::NF4;
    } else if (f == "int") {
        if (wbits < 2 || wbits > 8)
            throw UsageError("--wbits must be 2..8 or 16, got " + std::to_string(wbits));
        w.format = core::WeightFormat::Int;
        w.bits = wbits;
        w.groupSize = a.intValue("group-size", 0);
        w.symmetric = !a.flag("asym");
    } else {
        throw UsageError("--wformat must be int, int4, int8 or nf4, got '" + f + "'");
    }
    return w;
}

} // namespace

int cmdEval(int argc, char** argv)
{
    if (wantsHelp(argc, argv)) {
        std::fputs(kEvalHelp, stdout);
        return 0;
    }
    Args a(argc, argv, 2, {"model", "data", "batch", "threads", "mem-budget"}, {"json", "quiet", "report-peak-rss"});
    setThreads(a);
    const std::string modelDir = a.required("model"), dataPath = a.required("data");
    const core::StreamOptions stream = streamOptions(a);
    core::LoadedModel lm = core::loadModelForEval(modelDir, core::Residency::Streamed);
    core::TokenDataset data = core::loadTokenDataset(dataPath, lm.model.config().vocabSize);
    std::unique_ptr<core::QuantSimHook> hook;
    if (lm.settings)
        hook = std::make_unique<core::QuantSimHook>(*lm.settings, lm.groups);
    ProgressPrinter pp(a.flag("quiet"));
    core::NllResult r =
        core::evaluateStreamed(lm.model, data, hook.get(), a.intValue("batch", 8), pp.sink(), nullptr, stream);
    pp.finishLine();
    const std::string label = lm.settings ? lm.settings->label() : "full precision";
    printNll(label, r.nll, r.ppl, r.tokens);
    if (a.flag("json")) {
        json j = nllJson(r);
        j["command"] = "eval";
        j["model"] = modelDir;
        j["data"] = dataPath;
        j["label"] = label;
        j["quantized"] = bool(lm.settings);
        std::cout << j.dump() << std::endl;
    }
    reportPeakRss(a);
    return 0;
}

int cmdQuantize(int argc, char** argv)
{
    if (wantsHelp(argc, argv)) {
        std::fputs(kQuantizeHelp, stdout);
        return 0;
    }
    Args a(argc, argv, 2,
           {"model", "calib", "manifest", "method", "wbits", "abits", "wformat", "group-size", "eval", "session", "export",
            "threads", "batch", "k", "score", "rho", "force-mask", "solver", "p", "lambda-cos", "ratios",
            "adam-steps", "mem-budget", "mdqfo-tokens"},
           {"json", "quiet", "asym", "eval-fp", "overwrite", "no-local", "no-global", "no-dabc", "no-mdqfo",
            "any-modality", "report-peak-rss"});
    setThreads(a);
    core::QuantSettings st;
    st.method = a.required("method");
    if (st.method != "rtn" && st.method != "morphoquant")
        throw UsageError("--method must be rtn or morphoquant, got '" + st.method + "'");
    const int wbits = a.intValue("wbits", 16);
    if (!a.has("wbits") || !a.has("abits"))
        throw UsageError("--wbits and --abits are required");
    st.weight = weightSpec(a, wbits);
    st.abits = a.intValue("abits", 16);
    if (st.abits != 16 && (st.abits < 2 || st.abits > 8))
        throw UsageError("--abits must be 2..8 or 16, got " + std::to_string(st.abits));
    st.dabc.k = a.doubleValue("k", st.dabc.k);
    st.dabc.useLocal = !a.flag("no-local");
    st.dabc.useGlobal = !a.flag("no-global");
    st.dabc.enabled = !a.flag("no-dabc");
    st.dabc.anyModality = a.flag("any-modality");
    st.dabc.form = core::parseDispersionForm(a.value("score", "code"));
    st.dabc.rho = a.doubleValue("rho", 0.0);
    if (a.has("force-mask")) {
        st.dabc.forceKinds.clear();
        for (const std::string& kind : a.values("force-mask"))
            if (kind != "none")
                st.dabc.forceKinds.push_back(kind);
    }
    const std::string solver = a.value("solver", "grid");
    if (solver != "grid" && solver != "adam")
        throw UsageError("--solver must be grid or adam, got '" + solver + "'");
    st.mdqfo.solver = solver == "adam" ? core::MdqfoSolver::Adam : core::MdqfoSolver::GridSearch;
    st.mdqfo.p = a.doubleValue("p", st.mdqfo.p);
    st.mdqfo.lambdaCos = a.doubleValue("lambda-cos", st.mdqfo.lambdaCos);
    st.mdqfo.ratios = a.intValue("ratios", st.mdqfo.ratios);
    st.mdqfo.adamSteps = a.intValue("adam-steps", st.mdqfo.adamSteps);
    st.mdqfo.enabled = !a.flag("no-mdqfo");
    if (a.has("mdqfo-tokens")) {
        const int rows = a.intValue("mdqfo-tokens", 0);
        if (rows < 0)
            throw UsageError("--mdqfo-tokens must be >= 0");
        st.mdqfo.sampleRows = rows;
        if (rows == 0)
            st.mdqfo.sampleElements = 0; // every row
    }
    const int batch = a.intValue("batch", 8);
    if (batch < 1)
        throw UsageError("--batch must be at least 1");

    const core::CalibrationSourceSpec calibSpec = calibrationSource(a, batch);
    const std::string modelDir = a.required("model");
    const std::string sessionPath = a.value("session"), exportDir = a.value("export"), evalPath = a.value("eval");
    if (a.flag("eval-fp") && evalPath.empty())
        throw UsageError("--eval-fp needs --eval FILE");

    ProgressPrinter pp(a.flag("quiet"));
    core::Engine engine;
    engine.streamOptions = streamOptions(a);
    engine.keepPreviewCache = false; // no live preview on the command line
    core::Session session;
    engine.openModel(session, modelDir, pp.sink());
    if (!evalPath.empty()) { // a bad evaluation file fails now, not after the quantization
        const core::ModelConfig cfg =
            core::parseModelConfig(json::parse(session.model.configJson), modelDir + "/config.json");
        core::loadTokenDataset(evalPath, cfg.vocabSize);
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
    if (st.method == "morphoquant") {
        const core::ChannelCount c = core::maskedChannels(session); // the decoder's groups: what the plan quantizes
        double first = 0, last = 0;
        for (const auto& curve : session.curves) {
            first += curve.points.front().total;
            last += curve.points.back().total;
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
    }
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
        out["nll"] = q->nll;
        out["ppl"] = q->ppl;
        out["tokens"] = q->tokens;
    }
    if (!sessionPath.empty()) {
        core::saveSession(session, sessionPath);
        std::printf("session      %s\n", sessionPath.c_str());
        out["session"] = sessionPath;
    }
    if (!exportDir.empty()) {
        const core::ExportReport ex = engine.exportModel(session, exportDir, a.flag("overwrite"), pp.sink());
        pp.finishLine();
        std::printf("export       %s (%s, %lld tensors, %.2f MB)\n", ex.dir.c_str(), ex.representation.c_str(),
                    static_cast<long long>(ex.tensors), double(ex.bytes) / 1e6);
        out["export"] = ex.dir;
    }
    if (a.flag("json"))
        std::cout << out.dump() << std::endl;
    reportPeakRss(a);
    return 0;
}

const char* kCalibrateHelp = R"(usage: morphoquant-cli calibrate --model DIR (--manifest FILE | --calib FILE) --session OUT.mqs
                              [--batch N] [--threads N] [--mem-budget S] [--json] [--quiet]

Runs the calibration data through the full-precision model and stores per-modality and pooled
statistics of every Linear input (decoder, and for a manifest also the vision and audio
encoders) in a new session file.
)";

int cmdCalibrate(int argc, char** argv)
{
    if (wantsHelp(argc, argv)) {
        std::fputs(kCalibrateHelp, stdout);
        return 0;
    }
    Args a(argc, argv, 2, {"model", "manifest", "calib", "session", "batch", "threads", "mem-budget"},
           {"json", "quiet", "report-peak-rss"});
    setThreads(a);
    const int batch = a.intValue("batch", 8);
    if (batch < 1)
        throw UsageError("--batch must be at least 1");
    const core::CalibrationSourceSpec calibSpec = calibrationSource(a, batch);
    const std::string modelDir = a.required("model"), sessionPath = a.required("session");
    ProgressPrinter pp(a.flag("quiet"));
    core::Engine engine;
    engine.streamOptions = streamOptions(a);
    core::Session session;
    engine.openModel(session, modelDir, pp.sink());
    engine.calibrate(session, calibSpec, pp.sink());
    pp.finishLine();
    printInventory(modelDir);
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

const char* kMakeSyntheticHelp = R"(usage: morphoquant-cli make-synthetic OUTDIR --shape SHAPE [--layers N] [--seed S]
                                   [--calib-seqs N] [--eval-seqs N] [--seq-len N] [--overwrite] [--json]

Writes a checkpoint with a released model's layout and random weights, to measure the engine at
real sizes: config.json, bf16 tensors under the released names and shapes in shards of at most
2 GB with model.safetensors.index.json, a small tokenizer.json, and calibration.jsonl /
evaluation.jsonl of random token ids. A few channels are strong outliers (RMSNorm weights of 8,
up_proj rows 10 times larger), as DABC expects of real models. Written tensor by tensor.

  --shape SHAPE     qwen2.5-7b (hidden 3584, intermediate 18944, 28/4 heads, vocab 152064,
                    28 layers) | test-wide (hidden 256, for tests). The Qwen2.5-Omni layout is
                    written at tiny sizes by make-tiny-omni.
  --layers N        decoder layers (default: the shape's own)
  --seed S          random seed (default 0)
  --calib-seqs N    sequences in calibration.jsonl (default 8)
  --eval-seqs N     sequences in evaluation.jsonl (default 8)
  --seq-len N       tokens per sequence (default 256)
)";

int cmdMakeSynthetic(int argc, char** argv)
{
    if (wantsHelp(argc, argv)) {
        std::fputs(kMakeSyntheticHelp, stdout);
        return 0;
    }
    Args a(argc, argv, 2, {"shape", "layers", "seed", "calib-seqs", "eval-seqs", "seq-len"}, {"overwrite", "json", "quiet"});
    if (a.positional().size() != 1)
        throw UsageError("make-synthetic takes one output folder");
    core::SyntheticSpec spec;
    spec.shape = a.required("shape");
    const auto shapes = core::syntheticShapes();
    if (std::find(shapes.begin(), shapes.end(), spec.shape) == shapes.end()) {
        if (spec.shape == "qwen2.5-omni-3b" || spec.shape == "qwen2.5-omni-7b")
            throw UsageError("--shape " + spec.shape + " is not written yet at its real size; make-tiny-omni writes "
                             "the Qwen2.5-Omni layout at tiny sizes");
        throw UsageError("--shape must be qwen2.5-7b or test-wide, got '" + spec.shape + "'");
    }
    spec.layers = a.intValue("layers", 0);
    const int seed = a.intValue("seed", 0);
    spec.calibSequences = a.intValue("calib-seqs", spec.calibSequences);
    spec.evalSequences = a.intValue("eval-seqs", spec.evalSequences);
    spec.sequenceLength = a.intValue("seq-len", spec.sequenceLength);
    if (spec.layers < 0 || seed < 0 || spec.calibSequences < 1 || spec.evalSequences < 1 || spec.sequenceLength < 2)
        throw UsageError("--layers, --seed must be >= 0; --calib-seqs, --eval-seqs >= 1; --seq-len >= 2");
    spec.seed = uint64_t(seed);
    ProgressPrinter pp(a.flag("quiet"));
    const core::SyntheticSummary s = core::writeSynthetic(a.positional()[0], spec, a.flag("overwrite"), pp.sink());
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
    if (wantsHelp(argc, argv)) {
        std::fputs(kMakeTinyOmniHelp, stdout);
        return 0;
    }
    Args a(argc, argv, 2, {"seed"}, {"overwrite", "json"});
    if (a.positional().size() != 1)
        throw UsageError("make-tiny-omni takes one output folder");
    const int seed = a.intValue("seed", 0);
    if (seed < 0)
        throw UsageError("--seed must be >= 0");
    core::TinyOmniSummary s = core::writeTinyOmni(a.positional()[0], uint64_t(seed), a.flag("overwrite"));
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
    if (wantsHelp(argc, argv)) {
        std::fputs(kInspectHelp, stdout);
        return 0;
    }
    Args a(argc, argv, 2, {}, {"json"});
    if (a.positional().size() != 1)
        throw UsageError("inspect takes one session file");
    const std::string path = a.positional()[0];
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
    for (const auto& e : s.evals)
        evals.push_back({{"label", e.label}, {"data", e.data}, {"nll", e.nll}, {"ppl", e.ppl}, {"tokens", e.tokens}});
    j["evals"] = evals;
    json errors = json::array();
    for (const auto& me : s.errors)
        errors.push_back(moduleErrorJson(me));
    j["errors"] = errors;

    std::printf("session      %s\n", path.c_str());
    std::printf("model        %s (%s, %s)\n", s.model.path.c_str(), s.model.architecture.c_str(),
                s.model.fingerprint.c_str());
    std::printf("modules      %zu Linear modules in %zu input groups\n", s.modules.size(), s.groups.size());
    std::printf("calibration  %s: %lld sequences;", s.calibration.source.c_str(),
                static_cast<long long>(s.calibration.sequences));
    for (int m = 0; m < core::kNumModalities; ++m)
        std::printf(" %s %lld", core::modalityName(core::Modality(m)),
                    static_cast<long long>(s.calibration.tokens[size_t(m)]));
    std::printf(" tokens\n");
    if (s.settings)
        std::printf("plan         %s\n", s.settings->label().c_str());
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
    for (const auto& e : s.evals)
        std::printf("eval         %-40s nll %.6f ppl %.4f (%lld tokens)\n", e.label.c_str(), e.nll, e.ppl,
                    static_cast<long long>(e.tokens));
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
