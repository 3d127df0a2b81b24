#include "eval/plain_eval.h"

#include "common/blas_threads.h"
#include "common/error.h"
#include "io/atomic_file.h"
#include "io/hf_config.h"
#include "io/safetensors_map.h"
#include "io/token_data.h"
#include "model/attention_kernel.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <dlfcn.h>

namespace mq::core {

namespace {

// Why the engine has to run the evaluation (caught and returned as PlainEvalResult::whyNot).
struct NotPlain {
    std::string why;
};

// ---------------------------------------------------------------------------------------------
// The system BLAS, loaded when first needed: the launcher sets OPENBLAS_CORETYPE before (OpenBLAS
// reads it when it loads), and --help or a usage error never pays for it.

using Sgemm = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                       const int*, const float*, const int*, const float*, float*, const int*);

// sgemm_ of libblas.so.3, loaded into the process's global scope so that OpenBLAS's pool size is
// found by name like the engine's (common/blas_threads.h); null where there is none.
Sgemm blasSgemm()
{
    static const Sgemm fn = [] {
        // OpenBLAS starts its thread pool as it loads, sized by OPENBLAS_NUM_THREADS or the
        // cores; every call here runs on one thread, so the pool would only spin beside it.
        const bool had = std::getenv("OPENBLAS_NUM_THREADS") != nullptr;
        if (!had)
            ::setenv("OPENBLAS_NUM_THREADS", "1", 1);
        void* h = ::dlopen("libblas.so.3", RTLD_NOW | RTLD_GLOBAL);
        if (!had) // nothing this process starts later inherits it
            ::unsetenv("OPENBLAS_NUM_THREADS");
        return h ? reinterpret_cast<Sgemm>(::dlsym(h, "sgemm_")) : nullptr;
    }();
    return fn;
}

// y [n, out] = x [n, in] W^T (+ bias), W [out, in] row-major: the BLAS call LibTorch's
// at::linear makes (column-major y^T = W x^T; with a bias, y holds it first and beta is 1).
void linear(const float* x, int64_t n, const std::vector<float>& w, const std::vector<float>* bias, int64_t out,
            int64_t in, float* y)
{
    float beta = 0.0f;
    if (bias && !bias->empty()) {
        for (int64_t r = 0; r < n; ++r)
            std::memcpy(y + r * out, bias->data(), size_t(out) * sizeof(float));
        beta = 1.0f;
    }
    const int m = int(out), nn = int(n), k = int(in);
    const float one = 1.0f;
    blasSgemm()("T", "N", &m, &nn, &k, &one, w.data(), &k, x, &k, &beta, y, &m);
}

// x * rsqrt(mean(x^2) + eps) * w per row, in LibTorch's order of the float32 operations (the mean
// summed in float64 here, which rounds to the same float or its neighbour).
void rmsNorm(const float* x, int64_t rows, int64_t h, const std::vector<float>& w, float eps, float* y)
{
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * h;
        double ss = 0.0;
        for (int64_t d = 0; d < h; ++d)
            ss += double(xr[d] * xr[d]);
        const float inv = 1.0f / std::sqrt(float(ss / double(h)) + eps);
        float* yr = y + r * h;
        for (int64_t d = 0; d < h; ++d)
            yr[d] = xr[d] * inv * w[size_t(d)];
    }
}

// ---------------------------------------------------------------------------------------------
// The model.

struct PlainLayer {
    std::vector<float> inNorm, postNorm;
    std::vector<float> q, k, v, o, gate, up, down;
    std::vector<float> qb, kb, vb; // empty without attention_bias
};

struct PlainModel {
    ModelConfig cfg;
    std::vector<float> embed, head, finalNorm; // head empty: tied to embed
    std::vector<PlainLayer> layers;
    const std::vector<float>& lmHead() const { return head.empty() ? embed : head; }
};

float halfToFloat(uint16_t h)
{
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112u) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else { // subnormal: normalize
        exp = 113;
        while (!(man & 0x400u)) {
            man <<= 1;
            --exp;
        }
        bits = sign | (exp << 23) | ((man & 0x3ffu) << 13);
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

// A tensor of the given shape as float32; NotPlain where it is absent, of another shape or dtype,
// or not finite (the engine then names what is wrong, or evaluates what it can).
std::vector<float> loadTensor(const SafetensorsMap& file, const std::string& name, const std::vector<int64_t>& shape)
{
    if (!file.contains(name))
        throw NotPlain{"no tensor " + name};
    const TensorInfo& ti = file.info(name);
    if (ti.shape != shape)
        throw NotPlain{"tensor " + name + " has another shape than config.json implies"};
    const size_t n = size_t(ti.numel());
    std::vector<float> out(n);
    const uint8_t* p = file.bytes(name);
    switch (ti.dtype) {
    case DType::F32:
        std::memcpy(out.data(), p, n * 4);
        break;
    case DType::F64:
        for (size_t i = 0; i < n; ++i) {
            double d;
            std::memcpy(&d, p + 8 * i, 8);
            out[i] = float(d);
        }
        break;
    case DType::BF16:
        for (size_t i = 0; i < n; ++i) {
            const uint32_t bits = uint32_t(p[2 * i]) << 16 | uint32_t(p[2 * i + 1]) << 24;
            std::memcpy(&out[i], &bits, 4);
        }
        break;
    case DType::F16:
        for (size_t i = 0; i < n; ++i)
            out[i] = halfToFloat(uint16_t(p[2 * i] | p[2 * i + 1] << 8));
        break;
    default:
        throw NotPlain{"tensor " + name + " is " + dtypeName(ti.dtype) + ", not a floating dtype"};
    }
    for (float f : out)
        if (!std::isfinite(f))
            throw NotPlain{"tensor " + name + " holds NaN or Inf"};
    return out;
}

PlainModel loadPlainModel(const std::string& dir)
{
    namespace fs = std::filesystem;
    const std::string cfgPath = dir + "/config.json";
    const std::string single = dir + "/model.safetensors";
    std::error_code ec;
    if (!fs::is_regular_file(cfgPath, ec))
        throw NotPlain{"no config.json"};
    if (fs::exists(dir + "/model.safetensors.index.json", ec) || !fs::is_regular_file(single, ec))
        throw NotPlain{"not a single model.safetensors"};
    const nlohmann::json j = nlohmann::json::parse(readTextFile(cfgPath), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw NotPlain{"config.json is not a JSON object"};
    if (j.contains("quantization_config"))
        throw NotPlain{"a quantized checkpoint"};
    PlainModel m;
    m.cfg = parseModelConfig(j, cfgPath);
    const ModelConfig& c = m.cfg;
    if (!c.container.empty() || !c.mropeSection.empty())
        throw NotPlain{"a multimodal decoder"};
    if (c.headDim % 2 != 0)
        throw NotPlain{"an odd head size"};
    const int64_t h = c.hiddenSize, inter = c.intermediateSize, hd = c.headDim;
    const int64_t qOut = int64_t(c.numHeads) * hd, kvOut = int64_t(c.numKvHeads) * hd;
    const int64_t perLayer = 2 * h + h * qOut + 2 * h * kvOut + qOut * h + 3 * h * inter
        + (c.attentionBias ? qOut + 2 * kvOut : 0);
    const int64_t params = int64_t(c.vocabSize) * h * 2 + h + int64_t(c.numLayers) * perLayer;
    if (params > kPlainEvalMaxParams)
        throw NotPlain{"more than " + std::to_string(kPlainEvalMaxParams) + " parameters"};

    const SafetensorsMap file(single);
    std::vector<std::string> names;
    for (const auto& entry : file.tensors())
        names.push_back(entry.first);
    if (!tensorPastLastLayer(names, "", c.numLayers).empty()) // the engine refuses the checkpoint
        throw NotPlain{"the checkpoint holds more layers than config.json says"};
    m.embed = loadTensor(file, "model.embed_tokens.weight", {c.vocabSize, h});
    for (int l = 0; l < c.numLayers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        PlainLayer L;
        L.inNorm = loadTensor(file, p + "input_layernorm.weight", {h});
        L.postNorm = loadTensor(file, p + "post_attention_layernorm.weight", {h});
        L.q = loadTensor(file, p + "self_attn.q_proj.weight", {qOut, h});
        L.k = loadTensor(file, p + "self_attn.k_proj.weight", {kvOut, h});
        L.v = loadTensor(file, p + "self_attn.v_proj.weight", {kvOut, h});
        if (c.attentionBias) {
            L.qb = loadTensor(file, p + "self_attn.q_proj.bias", {qOut});
            L.kb = loadTensor(file, p + "self_attn.k_proj.bias", {kvOut});
            L.vb = loadTensor(file, p + "self_attn.v_proj.bias", {kvOut});
        }
        L.o = loadTensor(file, p + "self_attn.o_proj.weight", {h, qOut});
        L.gate = loadTensor(file, p + "mlp.gate_proj.weight", {inter, h});
        L.up = loadTensor(file, p + "mlp.up_proj.weight", {inter, h});
        L.down = loadTensor(file, p + "mlp.down_proj.weight", {h, inter});
        m.layers.push_back(std::move(L));
    }
    m.finalNorm = loadTensor(file, "model.norm.weight", {h});
    if (!c.tieWordEmbeddings || file.contains("lm_head.weight"))
        m.head = loadTensor(file, "lm_head.weight", {c.vocabSize, h});
    return m;
}

// ---------------------------------------------------------------------------------------------
// The forward of one batch and its next-token NLL.

struct Scratch {
    std::vector<float> x, hn, q, k, v, att, g, u;
    std::vector<float> headIn, logits;
};

struct BatchNll {
    double nll = 0.0;
    int64_t tokens = 0;
};

// Rotary tables [T, hd] (rotate-half): angle(p, i) = p * theta^(-2i/hd) in float64, as the engine.
void rotaryTables(const ModelConfig& c, int64_t T, std::vector<float>& cosT, std::vector<float>& sinT)
{
    const int64_t hd = c.headDim, half = hd / 2;
    std::vector<double> invFreq(static_cast<size_t>(half));
    for (int64_t i = 0; i < half; ++i)
        invFreq[size_t(i)] = std::pow(c.ropeTheta, -double(2 * i) / double(hd));
    cosT.assign(size_t(T * hd), 0.0f);
    sinT.assign(size_t(T * hd), 0.0f);
    for (int64_t p = 0; p < T; ++p)
        for (int64_t d = 0; d < hd; ++d) {
            const double a = double(p) * invFreq[size_t(d % half)];
            cosT[size_t(p * hd + d)] = float(std::cos(a));
            sinT[size_t(p * hd + d)] = float(std::sin(a));
        }
}

constexpr int64_t kHeadRows = 256; // lm_head rows per block: [256, vocab] float32 logits at a time

BatchNll batchNll(const PlainModel& m, const TokenDataset& data, const std::vector<size_t>& seqs,
                  const std::vector<float>& cosT, const std::vector<float>& sinT, Scratch& s)
{
    const ModelConfig& c = m.cfg;
    const int64_t B = int64_t(seqs.size()), T = int64_t(data.sequences[seqs.front()].size()), BT = B * T;
    const int64_t h = c.hiddenSize, inter = c.intermediateSize, hd = c.headDim, V = c.vocabSize;
    const int64_t qOut = int64_t(c.numHeads) * hd, kvOut = int64_t(c.numKvHeads) * hd;
    const float eps = float(c.rmsNormEps);
    s.x.resize(size_t(BT * h));
    s.hn.resize(size_t(BT * h));
    s.q.resize(size_t(BT * qOut));
    s.k.resize(size_t(BT * kvOut));
    s.v.resize(size_t(BT * kvOut));
    s.att.resize(size_t(BT * qOut));
    s.g.resize(size_t(BT * inter));
    s.u.resize(size_t(BT * inter));
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t) {
            const int64_t id = data.sequences[seqs[size_t(b)]][size_t(t)];
            std::memcpy(&s.x[size_t((b * T + t) * h)], &m.embed[size_t(id * h)], size_t(h) * sizeof(float));
        }
    for (const PlainLayer& L : m.layers) {
        rmsNorm(s.x.data(), BT, h, L.inNorm, eps, s.hn.data());
        linear(s.hn.data(), BT, L.q, &L.qb, qOut, h, s.q.data());
        linear(s.hn.data(), BT, L.k, &L.kb, kvOut, h, s.k.data());
        linear(s.hn.data(), BT, L.v, &L.vb, kvOut, h, s.v.data());
        AttentionArrays a;
        a.q = s.q.data();
        a.k = s.k.data();
        a.v = s.v.data();
        a.cos = cosT.data();
        a.sin = sinT.data();
        a.tableStride = 0;
        a.out = s.att.data();
        a.batch = B;
        a.tokens = T;
        a.heads = c.numHeads;
        a.kvHeads = c.numKvHeads;
        a.headDim = hd;
        attendTasks(a, 0, B * c.numHeads);
        linear(s.att.data(), BT, L.o, nullptr, h, qOut, s.hn.data());
        for (size_t i = 0; i < size_t(BT * h); ++i)
            s.x[i] = s.x[i] + s.hn[i];
        rmsNorm(s.x.data(), BT, h, L.postNorm, eps, s.hn.data());
        linear(s.hn.data(), BT, L.gate, nullptr, inter, h, s.g.data());
        linear(s.hn.data(), BT, L.up, nullptr, inter, h, s.u.data());
        for (size_t i = 0; i < size_t(BT * inter); ++i) {
            const float g = s.g[i];
            s.g[i] = g / (1.0f + std::exp(-g)) * s.u[i];
        }
        linear(s.g.data(), BT, L.down, nullptr, h, inter, s.hn.data());
        for (size_t i = 0; i < size_t(BT * h); ++i)
            s.x[i] = s.x[i] + s.hn[i];
    }
    // Positions 0..T-2 of every sequence predict the next token.
    const int64_t rows = B * (T - 1);
    s.headIn.resize(size_t(rows * h));
    for (int64_t b = 0; b < B; ++b)
        rmsNorm(s.x.data() + b * T * h, T - 1, h, m.finalNorm, eps, s.headIn.data() + b * (T - 1) * h);
    s.logits.resize(size_t(std::min(rows, kHeadRows) * V));
    BatchNll r;
    for (int64_t r0 = 0; r0 < rows; r0 += kHeadRows) {
        const int64_t nr = std::min(kHeadRows, rows - r0);
        linear(s.headIn.data() + r0 * h, nr, m.lmHead(), nullptr, V, h, s.logits.data());
        for (int64_t i = 0; i < nr; ++i) {
            const float* l = s.logits.data() + i * V;
            const int64_t row = r0 + i, b = row / (T - 1), t = row % (T - 1);
            const int64_t target = data.sequences[seqs[size_t(b)]][size_t(t + 1)];
            double mx = -INFINITY;
            for (int64_t v = 0; v < V; ++v)
                mx = std::max(mx, double(l[v]));
            double sum = 0.0;
            for (int64_t v = 0; v < V; ++v)
                sum += std::exp(double(l[v]) - mx);
            r.nll += mx + std::log(sum) - double(l[target]);
        }
    }
    r.tokens = rows;
    return r;
}

} // namespace

PlainEvalResult plainEvaluate(const PlainEvalRequest& request, const ProgressSink& progress)
{
    PlainEvalResult result;
    std::optional<PlainModel> model;
    TokenDataset data;
    try {
        model = loadPlainModel(request.model);
        data = loadTokenDataset(request.data, model->cfg.vocabSize, model->cfg.maxPositions);
        requirePredictedTokens(data);
    } catch (const NotPlain& e) {
        result.whyNot = e.why;
        return result;
    } catch (const std::exception& e) { // malformed input: the engine's messages say it
        result.whyNot = e.what();
        return result;
    }
    if (!blasSgemm()) {
        result.whyNot = std::string("no BLAS (libblas.so.3: ") + (::dlerror() ? "cannot load" : "no sgemm_") + ")";
        return result;
    }
    const std::vector<std::vector<size_t>> batches = predictingBatches(data, request.batch);
    int64_t fedTotal = 0;
    for (const auto& b : batches)
        fedTotal += int64_t(b.size() * data.sequences[b.front()].size());

    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    const int threads = request.threads > 0 ? request.threads : cores;
    const int workers = int(std::min<size_t>(size_t(std::max(1, threads)), batches.size()));
    // One BLAS thread per worker; the pool's size is restored when done (in a process that also
    // runs LibTorch, such as the tests, the pool is shared with it).
    const int blasBefore = blasThreads();
    setBlasThreads(1);

    std::vector<BatchNll> parts(batches.size());
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mutex; // the progress sink, the error and the counters below
    std::exception_ptr error;
    size_t done = 0;
    int64_t fed = 0;
    EtaClock clock;
    auto work = [&] {
        Scratch s;
        std::vector<float> cosT, sinT;
        int64_t tablesFor = -1;
        while (!failed) {
            const size_t i = next++;
            if (i >= batches.size())
                return;
            try {
                const int64_t T = int64_t(data.sequences[batches[i].front()].size());
                if (T != tablesFor) {
                    rotaryTables(model->cfg, T, cosT, sinT);
                    tablesFor = T;
                }
                parts[i] = batchNll(*model, data, batches[i], cosT, sinT, s);
                std::lock_guard<std::mutex> lock(mutex);
                ++done;
                fed += int64_t(batches[i].size()) * T;
                report(progress, "eval", double(fed) / double(std::max<int64_t>(1, fedTotal)),
                       "batch " + std::to_string(done) + "/" + std::to_string(batches.size()),
                       {{"tokens_per_s", double(fed) / std::max(1e-9, clock.elapsedSeconds())}});
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex);
                if (!error)
                    error = std::current_exception();
                failed = true;
            }
        }
    };
    std::vector<std::thread> pool;
    for (int w = 1; w < workers; ++w)
        pool.emplace_back(work);
    work();
    for (std::thread& t : pool)
        t.join();
    if (blasBefore > 1)
        setBlasThreads(blasBefore);
    if (error)
        std::rethrow_exception(error);
    double sum = 0.0;
    for (const BatchNll& p : parts) { // batch order: the same sum for every thread count
        sum += p.nll;
        result.tokens += p.tokens;
    }
    result.nll = result.tokens ? sum / double(result.tokens) : 0.0;
    result.ppl = std::exp(result.nll);
    if (!std::isfinite(result.nll)) {
        result.whyNot = "the NLL is not finite (the engine names the cause)";
        return result;
    }
    result.ran = true;
    return result;
}

} // namespace mq::core
