#include "usage.h"

#include "model/synthetic_shapes.h"
#include "quant/rotation_key.h"

#include "common/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace mq::cli {

namespace core = mq::core;

namespace {

const char* kHelp = R"(usage: morphoquant-cli COMMAND [options]

MorphoQuant Workbench, headless: modality-aware 4-bit post-training quantization
(DABC + MDQFO) of Llama / Qwen2-family decoders.

commands:
  eval       perplexity of a model folder (or of an exported quantized model)
  calibrate  statistics of every Linear input (per modality) into a session
  quantize   calibrate, plan (rtn or morphoquant), evaluate, save a session, export
  sweep      run several quantize recipes on one model and print one table
  inspect    what a session file holds
  check-export  check an exported folder against vLLM's and compressed-tensors' loading rules
  make-tiny-omni  write a tiny Qwen2.5-Omni checkpoint (real layout) for tests and demos
  make-synthetic  write a random checkpoint of a released shape (qwen2.5-7b) for benchmarks

`morphoquant-cli COMMAND --help` describes each command.
)";

const char* kEvalHelp = R"(usage: morphoquant-cli eval --model DIR --data FILE [options]

Mean next-token NLL and perplexity of a model folder over a JSONL token file. A folder written
by `quantize --export` is evaluated as the quantized model it holds. A small full-precision
Llama / Qwen2 model (at most 4M parameters, one model.safetensors) is evaluated by this program
itself, without loading LibTorch, to the engine's figures within float32 rounding ("runner":
"plain" in --json; MQ_PLAIN_EVAL=0 always runs the engine, MQ_PLAIN_EVAL=1 says why it did).

  --model DIR     Hugging Face folder (config.json + safetensors)
  --data FILE     JSONL, one {"input_ids": [...]} per line
  --reference DIR the full-precision model a quantized folder came from: also its perplexity
                  and the mean per-token KL divergence KL(reference || model) of the next-token
                  distributions (nats; `quantize --eval` reports it always)
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
  --wbits N            weight bits: 2..8 (integer weights) or 16 (unquantized); NF4 is 4
  --abits N            activation bits: 2..8 or 16 (unquantized)
  --wformat F          int (default) | int4 | int8 | nf4 (NF4: block 64, fp32 absmax) |
                       nf4-dq (NF4 with QLoRA's double quantization of the absmax values) |
                       nvfp4 | mxfp4 | hif4 (4-bit block formats, FORMATS.md; simulated)
  --group-size N       integer weights: scale per group of N inputs (default: per channel)
  --per-tensor         integer weights: one scale for the whole weight (static per tensor)
  --asym               integer weights: asymmetric (min/max) instead of symmetric
  --eval FILE          evaluate the quantized model on a JSONL token file
  --eval-fp            also evaluate the full-precision model on --eval FILE
  --eval-manifest FILE Qwen2.5-Omni: evaluate on a manifest (media placed as for calibration)
                       beside full precision: perplexity over every position's next token and
                       the KL divergence per modality of the compared positions
  --session OUT.mqs    write the session (statistics, plan, loss curves, figures)
  --export OUTDIR      write the quantized model as an HF folder (`eval --model` reloads it)
  --export-format F    morphoquant-sim (default: dequantized float32 weights, this tool only) |
                       compressed-tensors (packed INT4/INT8 weights; W4A16, W8A16, INT W4A4 and
                       W4A8 with per-token dynamic activations, W8A8 with per-token dynamic or
                       static per-tensor activations: what vLLM loads) |
                       nvfp4 (nvfp4-pack-quantized: --wformat nvfp4, NVFP4 or no activations) |
                       morphoquant (packed int weights with static per-channel activation
                       scales and DABC masks; README "Export formats"). A plan a format cannot
                       express is refused before anything runs; the folder is checked as
                       check-export does before it is renamed into place
  --mode M             simulated (default: weights and activations quantized separately, as
                       the paper) | deployable (--method morphoquant: each static per-channel
                       activation scale folded into the weight before it is quantized, so that
                       an integer GEMM runs; README "Deployable mode")
  --wscale-dtype D     f32 | bf16 | f16: integer weight scales rounded to D before the weights
                       are (default f32; with --export-format compressed-tensors or morphoquant
                       the model's dtype, which those formats store the scales in)
  --overwrite          allow --export and --session to replace an existing folder or file
  --threads N          CPU threads, libtorch's and OpenBLAS's (default: all cores)
  --device D           cpu (default) | cuda: statistics, MDQFO's grid scoring and NVFP4 / MXFP4
                       quantization run on the GPU kernels of core/cuda (README "GPU kernels");
                       refused, saying why, where the build has no kernels or no usable GPU
  --batch N            sequences per forward (default 8)
  --mem-budget S       hidden states kept in memory (default 4G, e.g. 512M); past it they go
                       to a temporary file. Every stage runs layer by layer, reading one layer's
                       weights at a time from the checkpoint.
  --json               last line of stdout is one JSON object (with the plan's cost:
                       act_bits_effective, act_bits_effective_mac, dabc_extra_macs,
                       weight_bits_effective, mode; README "What a figure costs")
  --quiet              no progress on stderr
  --rotate R           none (default) | hadamard: turn the residual stream by a random-sign
                       Hadamard matrix merged into the weights and down_proj's input by one
                       applied online (QuaRot-style; README "Rotation"); statistics, plan and
                       evaluation then work in the rotated basis. Not yet with --export.
                       hadamard-heads: also each attention head's values and o_proj's
                       inputs, by a head_dim rotation merged into v_proj and o_proj (free)
  --rotate-seed N      seed of the random signs (default 0)
  --preset P           budget (default): DABC compensates at most 1/24 of each group's
                       channels, so 4-bit activations cost at most 4.5 bits per element;
                       authors: the authors' code (every down_proj input compensated, no cap:
                       about 9.8 bits per element on stories260K);
                       whole true 4-bit recipes (every activation 4-bit, at most 4.5 bits with
                       scales; --method/--wbits/--abits then optional), the best found on
                       stories260K (README "Recipes at equal budgets"):
                       w4a4-best: HiFloat4 weights and activations, GPTQ aimed at the
                         full-precision outputs: --method rtn --wbits 4 --abits 4 --wformat
                         hif4 --aformat hif4 --gptq --gptq-fp-target --gptq-damp 0.0001
                       w4a4-nvfp4: the same with NVFP4 (--wformat nvfp4 --aformat nvfp4
                         --gptq --gptq-fp-target --gptq-damp 0.001)
                       w4a4-int-best: integers: --rotate hadamard-heads --gptq --gptq-clip 20
                         --gptq-fp-target --gptq-damp 0.001 --aasym --aclip 0.9
                       Options given override a preset.
 DABC:
  --k X                threshold mu + k*sigma (default 2)
  --no-local           switch the per-module threshold off
  --no-global          switch the all-modules threshold off
  --score F            dispersion form: code (default, the authors' code) | paper (Eq. 5)
  --rho X              compensate only |x| > rho*alpha in masked channels (default 0)
  --force-mask KIND    mask every channel of this module kind (repeatable; default none, the
                       pure Eq. 6; --preset authors forces down_proj)
  --dabc-max-share X   compensate at most this share of each group's channels, the highest
                       D_c first (default 1/24; 1 = no cap)
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
 GPTQ (integer weights; README "GPTQ"):
  --gptq               weights by GPTQ from each Linear's calibration inputs (H = X^T X), the
                       layers in order, each seeing the quantized layers before it
  --gptq-damp X        dampening: H += X * mean(diag H) * I (default 0.01)
  --gptq-block N       columns per lazy update (default 128)
  --gptq-no-act-order  columns in their own order (default: decreasing diag H)
  --gptq-clip N        per-row (per-group) clip search over N+1 factors from 1 down to 0.7,
                       weighted by diag H (default 0: none)
  --gptq-fp-target     aim at the full-precision model's outputs from the quantized model's
                       (activation-quantized) inputs (GPTAQ-style)
 Per-token and per-tensor activations (--method rtn):
  --aclip X            scale from X * max|x| of each token, values past it clamp (default 1)
  --aclip-search N     each input group's clip ratio instead: the one of N+1 ratios from 1
                       down to 0.7 with the least output error on calibration rows
  --aclip-objective O  what the search minimizes: output (default: the group's output error)
                       | morphology (MDQFO's loss of the quantized input, --p and --lambda-cos)
  --aformat F          int (default) | nvfp4 (16-blocks, E4M3 scales, static global scale
                       from calibration) | mxfp4 (32-blocks, E8M0) | hif4 (--abits 4) |
                       hif8 (elements, no scale; --abits 8)
  --smooth ALPHA       SmoothQuant with migration strength ALPHA (0..1, 0.5 in the paper):
                       each input channel divided by max|X_j|^a / max|W_j|^(1-a), the
                       weights' columns multiplied by it before they are rounded (rtn)
  --aasym              asymmetric tokens: their [min, max] range with a zero point (16 bits
                       per token, counted in the cost)
  --agroup-size N      per-token integer activations: a scale (and zero point) per group of N
                       channels of each token (16/N more bits per element; a partial last
                       group has a scale of its own)
  --ascheme S          per-token-dynamic (default: one scale per token) | per-tensor-static
                       (one scale per input group from the calibration's range of its input,
                       times --aclip or the searched ratio) | per-tensor-dynamic (one scale per
                       forward: the range of every token of the batch, so figures depend on
                       --batch). --aclip, --aclip-search and --aasym apply to all three
  --settings FILE.json the whole recipe as JSON, as a session stores it (inspect --json's
                       "settings"; the workbench's MPI jobs write it) instead of the options
                       above and below, none of which may then be given
  --quantize-encoders  Qwen2.5-Omni (--manifest): the vision and audio encoders' Linears
                       quantized too, with the plan's activations (DABC and MDQFO on their
                       own statistics for morphoquant) and its weight format rounded to
                       nearest; the decoder's plan then sees the quantized encoders' features,
                       and --eval-manifest reports each encoder's output error. Simulated
                       only: the exports write the decoder and refuse such a plan
)";

const char* kSweepHelp = R"(usage: morphoquant-cli sweep --model DIR (--calib FILE | --manifest FILE)
                          (--eval FILE | --eval-manifest FILE) --recipes FILE.json
                          [--batch N] [--threads N] [--mem-budget S] [--device D] [--json] [--quiet]

Runs quantize recipes one after another on one model and prints a table: perplexity, the mean
per-token KL divergence from the full-precision model, effective activation bits per element
and per multiply-add, DABC's extra multiply-adds, effective weight bits and wall time. Recipes
with the same rotation share one calibration. FILE.json is a JSON array (or {"recipes": [...]})
of {"name": "...", "options": "--method rtn --wbits 4 --abits 4 --rotate hadamard"} (options
as one string or a list of strings): any quantize option except --model, --calib, --manifest,
--eval, --eval-fp, --session, --export, --overwrite, --batch, --threads, --mem-budget and
--device, which the sweep sets. Every recipe is checked before the first one runs. For Qwen2.5-Omni,
--manifest calibrates on a manifest and --eval-manifest evaluates on one, with the KL
divergence per modality of the compared positions in the table (and "kl_by_modality").

  --json     last line of stdout: {"recipes": [{name, options, label, ppl, nll, kl, tokens,
             act_bits_effective, act_bits_effective_mac, dabc_extra_macs,
             weight_bits_effective, mode, seconds}, ...], "fp": {nll, ppl, tokens}}
)";

const char* kMakeTinyOmniHelp = R"(usage: morphoquant-cli make-tiny-omni OUTDIR [--seed N] [--overwrite] [--json]

Writes a tiny Qwen2.5-Omni checkpoint: the released models' config keys, tensor names and
bf16 dtype in two shards with model.safetensors.index.json, and a small byte-level BPE
tokenizer.json. Hidden size 64, so tests and demos run it in seconds.
)";

const char* kCheckExportHelp = R"(usage: morphoquant-cli check-export DIR [--json]

Checks a quantized model folder against the loading rules of compressed-tensors and vLLM (and of
this tool's morphoquant formats): quantization_config keys, format names and scheme arguments;
per packed Linear the tensor names, dtypes and shapes, weight_shape, zero points, scale dtypes,
NVFP4 scale bytes and the global scales fused projections must share; every decoder Linear packed
or listed in ignore; the shard index. Prints the vLLM scheme that would serve the folder, or why
none would. Exit status 0 when no rule is broken, 1 otherwise.

  --json   last line of stdout: {ok, quant_method, format, scheme, why, packed_linears,
           ignored_linears, errors, warnings}
)";

const char* kInspectHelp = R"(usage: morphoquant-cli inspect SESSION.mqs [--json]

Prints what a session holds: model, modules, calibration token counts per modality, DABC
masks, the method and its settings, MDQFO losses, evaluation figures and the layer errors of
the plan (per Linear: SQNR and cosine of its output, pooled and per modality). With --json the
last line also carries them: "errors": [{"module", "pooled": {"tokens", "sqnr_db", "cosine"},
"text": {...}, ...}] (modalities without tokens left out).
)";

const char* kCalibrateHelp = R"(usage: morphoquant-cli calibrate --model DIR (--manifest FILE | --calib FILE) --session OUT.mqs
                              [--batch N] [--threads N] [--mem-budget S] [--device D] [--rotate
                              hadamard|hadamard-heads [--rotate-seed N]] [--overwrite] [--json]
                              [--quiet]

Runs the calibration data through the full-precision model and stores per-modality and pooled
statistics of every Linear input (decoder, and for a manifest also the vision and audio
encoders) in a new session file. With --rotate the statistics are those of the rotated model
(see quantize --help), and plans built on them work in that basis. An existing session file is
replaced only with --overwrite.

  --device D   cpu (default) | cuda: the statistics pass runs on the GPU's statistics kernel
               (README "GPU kernels"); refused, saying why, without kernels or a usable GPU
)";

const char* kMakeSyntheticHelp = R"(usage: morphoquant-cli make-synthetic OUTDIR --shape SHAPE [--layers N] [--seed S]
                                   [--calib-seqs N] [--eval-seqs N] [--seq-len N] [--overwrite] [--json]

Writes a checkpoint with a released model's layout and random weights, to measure the engine at
real sizes: config.json, bf16 tensors under the released names and shapes in shards of at most
2 GB with model.safetensors.index.json, a small tokenizer.json, and calibration.jsonl /
evaluation.jsonl of random token ids. A few channels are strong outliers (RMSNorm weights of 8,
up_proj rows 10 times larger), as DABC expects of real models. Written tensor by tensor.

  --shape SHAPE     qwen2.5-7b       Qwen2.5-7B: hidden 3584, intermediate 18944, 28/4 heads,
                                     vocab 152064, 28 layers (about 15 GB)
                    qwen2.5-omni-7b  the whole Qwen2.5-Omni-7B checkpoint: the thinker (28
                                     layers as above, vision and audio encoders of 32 layers),
                                     talker and token2wav (float32), Qwen's special-token ids,
                                     and manifest.jsonl with images, audio and video frames
                                     under media/ (about 22 GB)
                    qwen2.5-omni-3b  the same at 3B (thinker hidden 2048, 36 layers; about 12 GB)
                    test-wide, test-omni  small versions for tests
  --layers N        thinker / decoder layers (default: the shape's own)
  --seed S          random seed (default 0)
  --calib-seqs N    sequences in calibration.jsonl (default 8)
  --eval-seqs N     sequences in evaluation.jsonl (default 8)
  --seq-len N       tokens per sequence (default 256)
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

// --device cpu|cuda: true for cuda (whether it can run is the engine's check, at start).
bool deviceOption(const Args& a)
{
    const std::string d = a.value("device", "cpu");
    if (d != "cpu" && d != "cuda")
        throw UsageError("--device must be cpu or cuda, got '" + d + "'");
    return d == "cuda";
}

// --threads N (0 or less: every core).
int threadsOption(const Args& a)
{
    return a.intValue("threads", 0);
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

int batchOption(const Args& a)
{
    const int batch = a.intValue("batch", 8);
    if (batch < 1)
        throw UsageError("--batch must be at least 1");
    return batch;
}

// --calib FILE (token JSONL) or --manifest FILE (Qwen2.5-Omni), exactly one of them:
// {kind, path} with kind "tokens" or "manifest".
std::pair<std::string, std::string> calibrationSource(const Args& a)
{
    if (a.has("calib") == a.has("manifest"))
        throw UsageError("give exactly one of --calib FILE and --manifest FILE");
    return {a.has("calib") ? "tokens" : "manifest", a.value(a.has("calib") ? "calib" : "manifest")};
}

core::WeightQuantSpec weightSpec(const Args& a, int wbits, const std::string& defaultFormat)
{
    core::WeightQuantSpec w;
    std::string f = a.value("wformat", defaultFormat);
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
    if (f == "nf4-dq") { // NF4 with double-quantized absmax values
        w.nf4DoubleQuant = true;
        f = "nf4";
    }
    if (f == "nf4" || f == "nvfp4" || f == "mxfp4" || f == "hif4") {
        if (wbits != 4)
            throw UsageError("--wformat " + f + " is a 4-bit format; got --wbits " + std::to_string(wbits));
        w.format = f == "nf4" ? core::WeightFormat::NF4
            : f == "nvfp4"    ? core::WeightFormat::NVFP4
            : f == "mxfp4"    ? core::WeightFormat::MXFP4
                              : core::WeightFormat::HiF4;
    } else if (f == "int") {
        if (wbits < 2 || wbits > 8)
            throw UsageError("--wbits must be 2..8 or 16, got " + std::to_string(wbits));
        w.format = core::WeightFormat::Int;
        w.bits = wbits;
        w.groupSize = a.intValue("group-size", 0);
        if (w.groupSize < 0)
            throw UsageError("--group-size must be >= 0 (0: one scale per output channel)");
        w.perTensor = a.flag("per-tensor");
        if (w.perTensor && w.groupSize > 0)
            throw UsageError("--per-tensor and --group-size exclude each other (one scale for the whole weight, or one "
                             "per group)");
        w.symmetric = !a.flag("asym");
    } else {
        throw UsageError("--wformat must be int, int4, int8, nf4, nf4-dq, nvfp4, mxfp4 or hif4, got '" + f + "'");
    }
    return w;
}

} // namespace

const std::vector<Command>& commands()
{
    static const std::vector<Command> list = {
        {"eval", kEvalHelp, {"model", "data", "batch", "threads", "mem-budget", "reference"}, {"json", "quiet", "report-peak-rss"}},
        {"calibrate", kCalibrateHelp,
         {"model", "manifest", "calib", "session", "batch", "threads", "mem-budget", "rotate", "rotate-seed", "device"},
         {"json", "quiet", "report-peak-rss", "overwrite"}},
        {"quantize", kQuantizeHelp,
         {"model", "calib", "manifest", "method", "wbits", "abits", "wformat", "group-size", "eval", "session",
          "export", "threads", "batch", "k", "score", "rho", "force-mask", "solver", "p", "lambda-cos", "ratios",
          "adam-steps", "mem-budget", "mdqfo-tokens", "preset", "dabc-max-share", "rotate", "rotate-seed",
          "gptq-damp", "gptq-block", "gptq-clip", "aclip", "aclip-search", "aclip-objective", "aformat", "ascheme", "agroup-size", "smooth", "recipe",
          "settings", "eval-manifest", "export-format", "wscale-dtype", "mode", "device"},
         {"json", "quiet", "asym", "eval-fp", "overwrite", "no-local", "no-global", "no-dabc", "no-mdqfo",
          "any-modality", "report-peak-rss", "gptq", "gptq-no-act-order", "gptq-fp-target", "aasym", "per-tensor",
          "quantize-encoders"}},
        {"sweep", kSweepHelp,
         {"model", "calib", "manifest", "eval", "eval-manifest", "recipes", "batch", "threads", "mem-budget", "device"},
         {"json", "quiet"}},
        {"inspect", kInspectHelp, {}, {"json"}},
        {"check-export", kCheckExportHelp, {}, {"json"}},
        {"make-tiny-omni", kMakeTinyOmniHelp, {"seed"}, {"overwrite", "json"}},
        {"make-synthetic", kMakeSyntheticHelp, {"shape", "layers", "seed", "calib-seqs", "eval-seqs", "seq-len"},
         {"overwrite", "json", "quiet"}},
    };
    return list;
}

const Command* findCommand(const std::string& name)
{
    for (const Command& c : commands())
        if (c.name == name)
            return &c;
    return nullptr;
}

Args parseArgs(const std::string& command, int argc, char** argv)
{
    const Command* c = findCommand(command);
    if (!c) // a caller's bug: main() only runs known commands
        throw std::logic_error("no command '" + command + "'");
    return Args(argc, argv, 2, c->valueOptions, c->flags);
}

int answerHelp(int argc, char** argv)
{
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        std::fputs(kHelp, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const Command* c = findCommand(argv[1]);
    if (!c) {
        std::fprintf(stderr, "morphoquant-cli: unknown command '%s'\n\n%s", argv[1], kHelp);
        return 2;
    }
    if (wantsHelp(argc, argv)) {
        std::fputs(c->help, stdout);
        return 0;
    }
    return -1;
}

int reportErrors(const std::string& command, const std::function<int()>& body)
{
    try {
        return body();
    } catch (const UsageError& e) {
        std::fprintf(stderr, "morphoquant-cli %s: %s (see --help)\n", command.c_str(), e.what());
        return 2;
    } catch (const core::Error& e) {
        std::fprintf(stderr, "morphoquant-cli %s: error: %s\n", command.c_str(), e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "morphoquant-cli %s: error: %s\n", command.c_str(), e.what());
        return 1;
    }
}

void checkUsage(int argc, char** argv)
{
    const std::string cmd = argv[1];
    const Args a = parseArgs(cmd, argc, argv);
    if (cmd == "eval")
        evalOptions(a);
    else if (cmd == "quantize")
        quantizeOptions(a);
    else if (cmd == "calibrate")
        calibrateOptions(a);
    else if (cmd == "make-synthetic")
        syntheticOptions(a);
    else if (cmd == "make-tiny-omni")
        tinyOmniOptions(a);
    else if (cmd == "inspect")
        inspectPath(a);
    else if (cmd == "check-export")
        checkExportOptions(a);
    else if (cmd == "sweep")
        sweepOptions(a);
    else
        throw std::logic_error("no checks for command '" + cmd + "'");
}

// A session file is replaced only with --overwrite (nothing saved is lost by a repeated command).
void requireNewOrOverwrite(const Args& a, const std::string& path)
{
    if (path.empty() || a.flag("overwrite"))
        return;
    std::ifstream probe(path);
    if (probe)
        throw core::InputError(path + " already exists; --overwrite replaces it (nothing was written)");
}

// --rotate {none,hadamard,hadamard-heads} and --rotate-seed N as a rotation key.
std::string rotationOption(const Args& a)
{
    const std::string kind = a.value("rotate", "none");
    if (kind != "none" && kind != "hadamard" && kind != "hadamard-heads")
        throw UsageError("--rotate must be none, hadamard or hadamard-heads, got '" + kind + "'");
    const int seed = a.intValue("rotate-seed", 0);
    if (seed < 0)
        throw UsageError("--rotate-seed must be >= 0");
    if (a.has("rotate-seed") && kind == "none")
        throw UsageError("--rotate-seed needs --rotate hadamard or hadamard-heads");
    return core::makeRotationKey(kind, uint64_t(seed));
}

EvalOptions evalOptions(const Args& a)
{
    EvalOptions o;
    o.threads = threadsOption(a);
    o.model = a.required("model");
    o.data = a.required("data");
    o.reference = a.value("reference");
    o.stream = streamOptions(a);
    o.batch = a.intValue("batch", 8); // below 1: one sequence per forward, as always
    return o;
}

// A recipe's option tokens parsed with quantize's options: UsageError for a bad option, or for
// a recipe naming another recipe file.
static Args recipeArgs(std::vector<std::string> tokens)
{
    tokens.insert(tokens.begin(), {"morphoquant-cli", "quantize"});
    std::vector<char*> argv;
    for (std::string& t : tokens)
        argv.push_back(t.data());
    const Command* q = findCommand("quantize");
    Args a(int(argv.size()), argv.data(), 2, q->valueOptions, q->flags);
    if (a.has("recipe"))
        throw UsageError("a recipe cannot name another recipe file");
    return a;
}

QuantizeOptions quantizeOptions(const Args& a)
{
    if (a.has("recipe")) { // the recipe's options, then the command line's over them
        const std::string path = a.value("recipe");
        const std::vector<RecipeSpec> r = readRecipeFile(path);
        if (r.size() != 1)
            throw core::InputError(path + ": --recipe takes a file with one recipe (this one has "
                                   + std::to_string(r.size()) + "; `sweep --recipes` runs several)");
        Args recipe(0, nullptr, 0, {}, {});
        try {
            recipe = recipeArgs(r[0].tokens);
        } catch (const UsageError& e) {
            throw core::InputError(path + ": recipe '" + r[0].name + "': " + e.what());
        }
        return quantizeOptions(a.over(recipe, "recipe"));
    }
    QuantizeOptions o;
    o.threads = threadsOption(a);
    o.cuda = deviceOption(a);
    core::QuantSettings& st = o.settings;
    // --settings FILE.json: the whole recipe as a session stores it (the workbench's MPI jobs);
    // the engine reads it, and no recipe option may stand beside it.
    const bool fromFile = a.has("settings");
    if (fromFile) {
        for (const char* k : {"method", "wbits", "abits", "wformat", "group-size", "k", "score", "rho", "force-mask",
                              "solver", "p", "lambda-cos", "ratios", "adam-steps", "mdqfo-tokens", "preset",
                              "dabc-max-share", "rotate", "rotate-seed", "gptq-damp", "gptq-block", "gptq-clip", "aclip",
                              "aclip-search", "aclip-objective", "aformat", "ascheme", "agroup-size", "smooth", "recipe",
                              "wscale-dtype", "mode"})
            if (a.has(k))
                throw UsageError(std::string("--settings gives the whole recipe; --") + k + " cannot stand beside it");
        for (const char* f : {"asym", "no-local", "no-global", "no-dabc", "no-mdqfo", "any-modality", "gptq",
                              "gptq-no-act-order", "gptq-fp-target", "aasym", "per-tensor", "quantize-encoders"})
            if (a.flag(f))
                throw UsageError(std::string("--settings gives the whole recipe; --") + f + " cannot stand beside it");
        o.settingsFile = a.value("settings");
    }
    // A preset first; the options below override its values. The w4a4-* presets are whole recipes
    // (README "Recipes at equal budgets"): method, bits, formats, rotation, GPTQ, activations.
    const std::string preset = a.value("preset", "budget");
    const bool hifBest = preset == "w4a4-best", intBest = preset == "w4a4-int-best", nvBest = preset == "w4a4-nvfp4";
    const bool best = hifBest || intBest || nvBest;
    if (preset != "budget" && preset != "authors" && !best)
        throw UsageError("--preset must be budget, authors, w4a4-best, w4a4-int-best or w4a4-nvfp4, got '" + preset
                         + "'");
    st.method = best || fromFile ? a.value("method", "rtn") : a.required("method");
    if (st.method != "rtn" && st.method != "morphoquant")
        throw UsageError("--method must be rtn or morphoquant, got '" + st.method + "'");
    o.wbits = a.intValue("wbits", best ? 4 : 16);
    if (!best && !fromFile && (!a.has("wbits") || !a.has("abits")))
        throw UsageError("--wbits and --abits are required");
    st.weight = weightSpec(a, o.wbits, hifBest ? "hif4" : (nvBest ? "nvfp4" : "int"));
    st.abits = a.intValue("abits", best ? 4 : 16);
    if (st.abits != 16 && (st.abits < 2 || st.abits > 8))
        throw UsageError("--abits must be 2..8 or 16, got " + std::to_string(st.abits));
    if (preset == "authors") { // the authors' code: every down_proj input compensated, no cap
        st.dabc.forceKinds = {"down_proj"};
        st.dabc.maxShare = 1.0;
    }
    if (a.has("dabc-max-share")) {
        st.dabc.maxShare = a.doubleValue("dabc-max-share", st.dabc.maxShare);
        if (!(st.dabc.maxShare >= 0.0 && st.dabc.maxShare <= 1.0))
            throw UsageError("--dabc-max-share must be within 0..1");
    }
    st.dabc.k = a.doubleValue("k", st.dabc.k);
    st.dabc.useLocal = !a.flag("no-local");
    st.dabc.useGlobal = !a.flag("no-global");
    st.dabc.enabled = !a.flag("no-dabc");
    st.dabc.anyModality = a.flag("any-modality");
    const std::string score = a.value("score", "code");
    if (score != "code" && score != "paper")
        throw UsageError("--score must be code or paper, got '" + score + "'");
    st.dabc.form = core::parseDispersionForm(score);
    st.dabc.rho = a.doubleValue("rho", 0.0);
    if (st.dabc.rho < 0.0)
        throw UsageError("--rho must be >= 0 (a share of each channel's bound)");
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
    if (!(st.mdqfo.p > 0.0))
        throw UsageError("--p must be > 0 (the L_p exponent)");
    st.mdqfo.lambdaCos = a.doubleValue("lambda-cos", st.mdqfo.lambdaCos);
    if (st.mdqfo.lambdaCos < 0.0)
        throw UsageError("--lambda-cos must be >= 0");
    st.mdqfo.ratios = a.intValue("ratios", st.mdqfo.ratios);
    if (st.mdqfo.ratios < 1)
        throw UsageError("--ratios must be at least 1");
    st.mdqfo.adamSteps = a.intValue("adam-steps", st.mdqfo.adamSteps);
    if (st.mdqfo.adamSteps < 1)
        throw UsageError("--adam-steps must be at least 1");
    st.mdqfo.enabled = !a.flag("no-mdqfo");
    if (a.has("mdqfo-tokens")) {
        const int rows = a.intValue("mdqfo-tokens", 0);
        if (rows < 0)
            throw UsageError("--mdqfo-tokens must be >= 0");
        st.mdqfo.sampleRows = rows;
        if (rows == 0)
            st.mdqfo.sampleElements = 0; // every row
    }
    // Weights by GPTQ, and per-token activation clipping (rtn).
    st.gptq.enabled = a.flag("gptq") || best;
    if (best) {
        st.gptq.clipSteps = intBest ? 20 : 0;
        st.gptq.fpTarget = true;
        st.gptq.damp = hifBest ? 0.0001 : 0.001;
    }
    const bool gptqTuned = a.has("gptq-damp") || a.has("gptq-block") || a.has("gptq-clip")
        || a.flag("gptq-no-act-order") || a.flag("gptq-fp-target");
    if (gptqTuned && !st.gptq.enabled && !best)
        throw UsageError("--gptq-damp, --gptq-block, --gptq-clip, --gptq-no-act-order and --gptq-fp-target need --gptq");
    st.gptq.damp = a.doubleValue("gptq-damp", st.gptq.damp);
    if (!(st.gptq.damp >= 0.0))
        throw UsageError("--gptq-damp must be >= 0");
    st.gptq.blockSize = a.intValue("gptq-block", st.gptq.blockSize);
    if (st.gptq.blockSize < 1)
        throw UsageError("--gptq-block must be >= 1");
    st.gptq.clipSteps = a.intValue("gptq-clip", st.gptq.clipSteps);
    if (st.gptq.clipSteps < 0 || st.gptq.clipSteps > 1000)
        throw UsageError("--gptq-clip must be 0..1000 (clip factors tried between 1 and 0.7)");
    st.gptq.actOrder = !a.flag("gptq-no-act-order");
    st.gptq.fpTarget = st.gptq.fpTarget || a.flag("gptq-fp-target");
    if (st.gptq.enabled && !core::gptqRounds(st.weight.format))
        throw UsageError("--gptq quantizes integer weights (--wbits 2..8) or --wformat nvfp4, mxfp4 or hif4");
    if (st.gptq.enabled && st.weight.perTensor)
        throw UsageError("--gptq with --per-tensor weights is not written (GPTQ picks a scale per row or group)");
    if (st.gptq.clipSteps > 0 && st.weight.format != core::WeightFormat::Int)
        throw UsageError("--gptq-clip searches integer weights' scales; the block formats keep their own");
    st.actClipSearch = a.intValue("aclip-search", 0);
    st.actClip = a.doubleValue("aclip", intBest && st.actClipSearch == 0 ? 0.9 : 1.0);
    if (!(st.actClip > 0.0 && st.actClip <= 1.0))
        throw UsageError("--aclip must be in (0, 1]");
    st.actAsym = a.flag("aasym") || intBest;
    const std::string af = a.value("aformat", hifBest ? "hif4" : (nvBest ? "nvfp4" : "int"));
    if (af != "int" && af != "nvfp4" && af != "mxfp4" && af != "hif8" && af != "hif4")
        throw UsageError("--aformat must be int, nvfp4, mxfp4, hif8 or hif4, got '" + af + "'");
    st.actFormat = core::parseActFormat(af);
    if (af != "int") {
        if (st.method != "rtn")
            throw UsageError("--aformat " + af + " applies to per-token activations (--method rtn)");
        if (st.abits != (af == "hif8" ? 8 : 4))
            throw UsageError("--aformat " + af + " is a " + (af == "hif8" ? "8" : "4") + "-bit format; got --abits "
                             + std::to_string(st.abits));
        if (a.has("aclip") || st.actAsym || st.actClipSearch > 0)
            throw UsageError("--aclip, --aclip-search and --aasym apply to --aformat int");
    }
    if (st.actClipSearch < 0 || st.actClipSearch > 1000)
        throw UsageError("--aclip-search must be 0..1000");
    if (a.has("aclip-objective")) {
        const std::string objective = a.value("aclip-objective");
        if (objective != "output" && objective != "morphology")
            throw UsageError("--aclip-objective must be output or morphology, got '" + objective + "'");
        if (st.actClipSearch == 0)
            throw UsageError("--aclip-objective needs --aclip-search N");
        st.actClipMorphology = objective == "morphology";
    }
    if (a.has("aclip") && st.actClipSearch > 0)
        throw UsageError("--aclip and --aclip-search exclude each other (the search picks each group's ratio)");
    if ((a.has("aclip") || st.actAsym || st.actClipSearch > 0) && st.method != "rtn")
        throw UsageError("--aclip, --aclip-search, --aasym and the w4a4 presets apply to per-token and per-tensor "
                         "activations (--method rtn)");
    if (a.has("ascheme")) {
        const std::string sc = a.value("ascheme");
        if (sc != "per-token-dynamic" && sc != "per-tensor-dynamic" && sc != "per-tensor-static")
            throw UsageError("--ascheme must be per-token-dynamic, per-tensor-dynamic or per-tensor-static, got '" + sc
                             + "'");
        if (st.method != "rtn")
            throw UsageError("--ascheme applies to --method rtn (MorphoQuant's activations are static per channel)");
        if (st.abits >= 16)
            throw UsageError("--ascheme needs quantized activations (--abits below 16)");
        if (sc != "per-token-dynamic" && af != "int")
            throw UsageError("--ascheme " + sc + " quantizes integers; --aformat " + af + " is a per-token block format");
        st.act = core::parseActScheme(sc);
    }
    if (a.has("agroup-size")) {
        st.actGroupSize = a.intValue("agroup-size", 0);
        if (st.actGroupSize < 1)
            throw UsageError("--agroup-size must be at least 1");
        if (st.method != "rtn" || af != "int" || core::isPerTensor(st.act))
            throw UsageError("--agroup-size applies to per-token integer activations (--method rtn, --aformat int)");
        if (st.abits >= 16)
            throw UsageError("--agroup-size needs quantized activations (--abits below 16)");
    }
    if (a.has("smooth")) {
        st.smooth = true;
        st.smoothAlpha = a.doubleValue("smooth", 0.5);
        if (!(st.smoothAlpha >= 0.0 && st.smoothAlpha <= 1.0))
            throw UsageError("--smooth takes a migration strength within 0..1");
        if (st.method != "rtn")
            throw UsageError("--smooth applies to --method rtn (per-token and per-tensor activations): MorphoQuant's "
                             "static per-channel scales absorb any per-channel factor already (x / s on bounds "
                             "alpha / s gives the same codes), so smoothing would only move outliers into the weights");
    }
    o.batch = batchOption(a);
    std::tie(o.calibKind, o.calibPath) = calibrationSource(a);
    if (a.flag("quantize-encoders")) {
        st.quantizeEncoders = true;
        if (o.calibKind != "manifest")
            throw UsageError("--quantize-encoders needs --manifest: a Qwen2.5-Omni manifest with images, audio or video "
                             "(the encoders run on nothing else)");
    }
    if (intBest && !a.has("rotate")) {
        const int seed = a.intValue("rotate-seed", 0);
        if (seed < 0)
            throw UsageError("--rotate-seed must be >= 0");
        o.rotation = core::makeRotationKey("hadamard-heads", uint64_t(seed));
    } else {
        o.rotation = rotationOption(a);
    }
    o.model = a.required("model");
    o.session = a.value("session");
    requireNewOrOverwrite(a, o.session);
    o.exportDir = a.value("export");
    st.rotation = o.rotation; // the plan's basis (the calibration's; set again when the plan is built)
    if (a.has("mode")) {
        st.mode = a.value("mode");
        if (st.mode != "simulated" && st.mode != "deployable")
            throw UsageError("--mode must be simulated or deployable, got '" + st.mode + "'");
        if (st.mode == "deployable" && (st.method != "morphoquant" || st.abits >= 16))
            throw UsageError("--mode deployable folds static per-channel activation scales into the weights: it needs "
                             "--method morphoquant and --abits below 16");
        if (st.mode == "deployable" && st.gptq.enabled)
            throw UsageError("--mode deployable with --gptq is not written yet");
        if (st.mode == "deployable" && st.quantizeEncoders)
            throw UsageError("--mode deployable with --quantize-encoders: the deployable mode describes what an export "
                             "computes, and the exports write the thinker's decoder only");
    }
    if (a.has("wscale-dtype")) {
        try {
            st.weight.scaleDtype = core::parseScaleDtype(a.value("wscale-dtype"));
        } catch (const core::InputError& e) {
            throw UsageError(std::string("--wscale-dtype: ") + e.what());
        }
        if (st.weight.format != core::WeightFormat::Int)
            throw UsageError("--wscale-dtype rounds integer weights' scales; the plan's weights are "
                             + st.weight.label());
        o.scaleDtypeGiven = true;
    }
    if (a.has("export-format")) {
        if (o.exportDir.empty())
            throw UsageError("--export-format needs --export OUTDIR");
        try {
            o.exportFormat = core::parseExportFormat(a.value("export-format"));
        } catch (const core::InputError& e) {
            throw UsageError(std::string("--export-format: ") + e.what());
        }
    }
    if (!o.exportDir.empty()) { // before any work: a plan the format cannot hold is refused now
        const std::string why = core::exportRefusal(st, o.exportFormat);
        if (!why.empty())
            throw UsageError(why);
    }
    o.evalPath = a.value("eval");
    o.evalManifest = a.value("eval-manifest");
    if (a.flag("eval-fp") && o.evalPath.empty())
        throw UsageError("--eval-fp needs --eval FILE");
    o.stream = streamOptions(a);
    return o;
}

CalibrateOptions calibrateOptions(const Args& a)
{
    CalibrateOptions o;
    o.threads = threadsOption(a);
    o.cuda = deviceOption(a);
    o.batch = batchOption(a);
    std::tie(o.calibKind, o.calibPath) = calibrationSource(a);
    o.rotation = rotationOption(a);
    o.model = a.required("model");
    o.session = a.required("session");
    requireNewOrOverwrite(a, o.session);
    o.stream = streamOptions(a);
    return o;
}

SyntheticOptions syntheticOptions(const Args& a)
{
    if (a.positional().size() != 1)
        throw UsageError("make-synthetic takes one output folder");
    SyntheticOptions o;
    o.dir = a.positional()[0];
    o.shape = a.required("shape");
    const std::vector<std::string> shapes = core::syntheticShapes();
    if (std::find(shapes.begin(), shapes.end(), o.shape) == shapes.end()) {
        std::string list;
        for (const std::string& s : shapes)
            list += (list.empty() ? "" : ", ") + s;
        throw UsageError("--shape must be one of " + list + "; got '" + o.shape + "'");
    }
    o.layers = a.intValue("layers", 0);
    o.seed = a.intValue("seed", 0);
    auto count = [&](const char* name) {
        return a.has(name) ? std::optional<int>(a.intValue(name, 0)) : std::nullopt;
    };
    o.calibSequences = count("calib-seqs");
    o.evalSequences = count("eval-seqs");
    o.sequenceLength = count("seq-len");
    if (o.layers < 0 || o.seed < 0 || o.calibSequences.value_or(1) < 1 || o.evalSequences.value_or(1) < 1
        || o.sequenceLength.value_or(2) < 2)
        throw UsageError("--layers, --seed must be >= 0; --calib-seqs, --eval-seqs >= 1; --seq-len >= 2");
    return o;
}

TinyOmniOptions tinyOmniOptions(const Args& a)
{
    if (a.positional().size() != 1)
        throw UsageError("make-tiny-omni takes one output folder");
    TinyOmniOptions o;
    o.dir = a.positional()[0];
    o.seed = a.intValue("seed", 0);
    if (o.seed < 0)
        throw UsageError("--seed must be >= 0");
    return o;
}

CheckExportOptions checkExportOptions(const Args& a)
{
    if (a.positional().size() != 1)
        throw UsageError("check-export takes one folder");
    return CheckExportOptions{a.positional()[0]};
}

std::string inspectPath(const Args& a)
{
    if (a.positional().size() != 1)
        throw UsageError("inspect takes one session file");
    return a.positional()[0];
}

SweepOptions sweepOptions(const Args& a)
{
    SweepOptions o;
    o.threads = threadsOption(a);
    o.cuda = deviceOption(a);
    o.model = a.required("model");
    std::tie(o.calibKind, o.calib) = calibrationSource(a);
    o.eval = a.value("eval");
    o.evalManifest = a.value("eval-manifest");
    if (o.eval.empty() == o.evalManifest.empty())
        throw UsageError("give exactly one of --eval FILE and --eval-manifest FILE");
    o.recipes = a.required("recipes");
    o.batch = batchOption(a);
    o.stream = streamOptions(a);
    return o;
}

QuantizeOptions recipeOptions(const SweepOptions& sweep, const std::vector<std::string>& tokens)
{
    static const std::set<std::string> reserved = {"model", "calib", "manifest", "eval", "eval-fp", "session", "export-format",
                                                   "export", "overwrite", "batch", "threads", "mem-budget", "device"};
    for (const std::string& t : tokens) {
        if (t.rfind("--", 0) != 0)
            continue;
        const size_t eq = t.find('=');
        const std::string name = t.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
        if (reserved.count(name))
            throw UsageError("--" + name + " is the sweep's to set, not a recipe's");
    }
    std::vector<std::string> all = {"--model", sweep.model, sweep.calibKind == "manifest" ? "--manifest" : "--calib",
                                    sweep.calib};
    all.insert(all.end(), tokens.begin(), tokens.end());
    QuantizeOptions o = quantizeOptions(recipeArgs(std::move(all)));
    o.batch = sweep.batch;
    o.stream = sweep.stream;
    o.threads = sweep.threads;
    o.cuda = sweep.cuda;
    return o;
}

std::vector<RecipeSpec> readRecipeFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw core::InputError(path + ": cannot open the recipe file");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw core::InputError(path + ": not valid JSON: " + e.what());
    }
    if (j.is_object() && j.contains("recipes"))
        j = j["recipes"];
    else if (j.is_object() && j.contains("options"))
        j = nlohmann::json::array({j});
    if (!j.is_array() || j.empty())
        throw core::InputError(path + ": expected a non-empty array of {\"name\", \"options\"} (or {\"recipes\": [...]})");
    std::vector<RecipeSpec> out;
    for (size_t i = 0; i < j.size(); ++i) {
        const nlohmann::json& r = j[i];
        const std::string where = path + ": recipe " + std::to_string(i + 1);
        if (!r.is_object() || !r.contains("options") || (r.contains("name") && !r["name"].is_string())
            || (j.size() > 1 && !r.contains("name")))
            throw core::InputError(where + ": expected an object with a string \"name\" and \"options\"");
        RecipeSpec rec;
        rec.name = r.value("name", std::string("recipe"));
        const nlohmann::json& opt = r["options"];
        if (opt.is_string()) {
            std::string cur;
            for (char c : opt.get<std::string>() + " ") {
                if (c == ' ' || c == '\t' || c == '\n') {
                    if (!cur.empty())
                        rec.tokens.push_back(cur);
                    cur.clear();
                } else {
                    cur += c;
                }
            }
        } else if (opt.is_array()) {
            for (const nlohmann::json& t : opt) {
                if (!t.is_string())
                    throw core::InputError(where + " ('" + rec.name + "'): options must be strings");
                rec.tokens.push_back(t.get<std::string>());
            }
        } else {
            throw core::InputError(where + " ('" + rec.name + "'): options must be a string or a list of strings");
        }
        for (const std::string& t : rec.tokens)
            rec.options += (rec.options.empty() ? "" : " ") + t;
        out.push_back(std::move(rec));
    }
    return out;
}

} // namespace mq::cli

// This file is compiled into the launcher, which must not load libtorch: fail the build if a
// libtorch header was reached (c10/util/Exception.h defines TORCH_CHECK, ATen includes it).
#if defined(TORCH_CHECK) || defined(AT_ASSERT) || defined(C10_API)
#error "app/cli/usage.cpp must stay libtorch-free"
#endif
