// cuda_selftest, the fused W4A4 + DABC linear: quantizeActivations and w4a4Linear (w4a4.cu)
// against their CPU references (ref_w4a4.cpp) on random bf16 activations with outlier channels.
//   * packed a, tokenScale, residual: bit for bit (the same float32 operations in the same order).
//   * acc: exact (integer sums).
//   * y: the only arithmetic difference is the DABC term, summed in float32 on the GPU's bf16
//     tensor cores in another order than the reference's sequential sum; the float32 values
//     before the final rounding therefore differ by a few float32 ulps of sum_m |r w| at most,
//     and after the one bf16 rounding the results are equal or (near a rounding boundary)
//     adjacent: allowed |y - y_ref| <= 1 bf16 ulp of max(|y|, |y_ref|) + 2^-16 * sum_m |r_m w_m|
//     (the second part covers a cancellation that leaves y much smaller than the DABC terms).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cuda/kernels.h"
#include "cuda/reference.h"
#include "cuda/selftest.h"

namespace mq::cuda::selftest {

namespace {

// One bf16 ulp at |v| (normal range; the smallest normal's spacing below it).
double bf16Ulp(double v)
{
    v = std::fabs(v);
    if (!(v >= 1.17549435e-38))
        return std::ldexp(1.0, -133);
    int e = 0;
    std::frexp(v, &e); // v = f * 2^e, f in [0.5, 1)
    return std::ldexp(1.0, e - 8);
}

Buffer upload(const void* host, size_t bytes)
{
    Buffer b(std::max<size_t>(bytes, 16));
    if (bytes > 0)
        b.upload(host, bytes);
    return b;
}

template <class T>
std::vector<T> download(const Buffer& b, size_t count)
{
    std::vector<T> v(count);
    if (count > 0)
        b.download(v.data(), count * sizeof(T));
    return v;
}

struct Case {
    int64_t T, N, K;
    int Mk;
    bool staticScales;
    float rho;
    bool bias;
    W4a4Tile tile = W4a4Tile::Auto;
};

std::string describe(const Case& c)
{
    return "T=" + std::to_string(c.T) + " N=" + std::to_string(c.N) + " K=" + std::to_string(c.K) +
           " Mk=" + std::to_string(c.Mk) + (c.staticScales ? " static" : " dynamic") +
           " rho=" + (c.rho > 0.0f ? std::string("0.5") : std::string("0")) + (c.bias ? " bias" : "") +
           (c.tile == W4a4Tile::Auto ? "" : " tile " + std::to_string(static_cast<int>(c.tile)));
}

void runCase(Report& r, const Case& c, std::mt19937& rng)
{
    const std::string what = "w4a4 shape " + describe(c);
    const int64_t T = c.T, N = c.N, K = c.K;
    const int Mk = c.Mk;

    // Activations: N(0, 1) with a few outlier channels (x 20..60), rounded to bf16.
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    std::uniform_real_distribution<float> uni(0.0f, 1.0f);
    std::vector<int32_t> channels(static_cast<size_t>(K));
    for (int64_t k = 0; k < K; ++k)
        channels[k] = static_cast<int32_t>(k);
    std::shuffle(channels.begin(), channels.end(), rng);
    std::vector<int32_t> masked(channels.begin(), channels.begin() + Mk);
    std::sort(masked.begin(), masked.end());
    std::vector<float> chanGain(static_cast<size_t>(K), 1.0f);
    const int outliers = std::max(1, Mk / 2);
    for (int i = 0; i < outliers && i < K; ++i) // the first half of the masked channels (or one) are outliers
        chanGain[channels[i]] = 20.0f + 40.0f * uni(rng);
    std::vector<uint16_t> x(static_cast<size_t>(T * K));
    for (int64_t t = 0; t < T; ++t)
        for (int64_t k = 0; k < K; ++k)
            x[t * K + k] = ref::toBf16(gauss(rng) * chanGain[k]);
    std::vector<float> chanScale;
    if (c.staticScales) {
        chanScale.assign(static_cast<size_t>(K), 0.0f);
        for (int64_t k = 0; k < K; ++k)
            chanScale[k] = (3.0f * chanGain[k] * (0.5f + uni(rng))) / 7.0f;
    }

    // Weights: int4 in [-8, 7], per-channel scales, the masked columns dequantized in bf16, bias.
    std::uniform_int_distribution<int> w4(-8, 7);
    std::vector<int8_t> w(static_cast<size_t>(N * K));
    for (auto& v : w)
        v = static_cast<int8_t>(w4(rng));
    std::vector<float> ws(static_cast<size_t>(N));
    for (auto& v : ws)
        v = 0.002f + 0.02f * uni(rng);
    std::vector<uint16_t> wm(static_cast<size_t>(N) * Mk);
    for (int64_t n = 0; n < N; ++n)
        for (int m = 0; m < Mk; ++m)
            wm[n * Mk + m] = ref::toBf16(static_cast<float>(w[n * K + masked[m]]) * ws[n]);
    // The kernel's layout: rows of ld = dabcStride(Mk), zero-padded.
    const int ld = dabcStride(Mk);
    std::vector<uint16_t> wmPadded(static_cast<size_t>(N) * ld, 0);
    for (int64_t n = 0; n < N; ++n)
        for (int m = 0; m < Mk; ++m)
            wmPadded[n * ld + m] = wm[n * Mk + m];
    std::vector<uint16_t> bias;
    if (c.bias) {
        bias.resize(static_cast<size_t>(N));
        for (auto& v : bias)
            v = ref::toBf16(gauss(rng));
    }
    const std::vector<uint8_t> wPacked = ref::packInt4(w, N, K);

    // Reference.
    std::vector<int8_t> aRef;
    std::vector<float> tsRef;
    std::vector<uint16_t> resRef;
    ref::quantizeActivations(x, T, K, c.staticScales ? chanScale.data() : nullptr, masked, c.rho, aRef, tsRef, resRef);
    const std::vector<uint8_t> aPackedRef = ref::packInt4(aRef, T, K);
    std::vector<int32_t> accRef;
    std::vector<uint16_t> yRef;
    ref::w4a4Linear(aRef, tsRef, w, ws, resRef, wm, Mk, bias, T, N, K, accRef, yRef);

    // GPU.
    Buffer dx = upload(x.data(), x.size() * 2);
    Buffer dcs = upload(chanScale.data(), chanScale.size() * 4);
    Buffer dmi = upload(masked.data(), masked.size() * 4);
    Buffer da(std::max<size_t>(static_cast<size_t>(T * K / 2), 16));
    Buffer dts(std::max<size_t>(static_cast<size_t>(T) * 4, 16));
    Buffer dres(std::max<size_t>(static_cast<size_t>(T) * ld * 2, 16));
    Buffer dw = upload(wPacked.data(), wPacked.size());
    Buffer dws = upload(ws.data(), ws.size() * 4);
    Buffer dwm = upload(wmPadded.data(), wmPadded.size() * 2);
    Buffer db = upload(bias.data(), bias.size() * 2);
    Buffer dy(std::max<size_t>(static_cast<size_t>(T * N) * 2, 16));
    Buffer dacc(std::max<size_t>(static_cast<size_t>(T * N) * 4, 16));

    quantizeActivations(dx.as<uint16_t>(), T, K, c.staticScales ? dcs.as<float>() : nullptr, dmi.as<int32_t>(), Mk,
                        c.rho, da.as<uint8_t>(), dts.as<float>(), dres.as<uint16_t>());
    w4a4Linear(da.as<uint8_t>(), dts.as<float>(), dw.as<uint8_t>(), dws.as<float>(), dres.as<uint16_t>(),
               dwm.as<uint16_t>(), Mk, c.bias ? db.as<uint16_t>() : nullptr, T, N, K, dy.as<uint16_t>(),
               dacc.as<int32_t>(), nullptr, c.tile);
    synchronize();
    const auto aPacked = download<uint8_t>(da, static_cast<size_t>(T * K / 2));
    const auto ts = download<float>(dts, static_cast<size_t>(T));
    const auto res = download<uint16_t>(dres, static_cast<size_t>(T) * ld);
    const auto acc = download<int32_t>(dacc, static_cast<size_t>(T * N));
    const auto y = download<uint16_t>(dy, static_cast<size_t>(T * N));
    // Without the acc output: the same y, bit for bit.
    dy.zero();
    w4a4Linear(da.as<uint8_t>(), dts.as<float>(), dw.as<uint8_t>(), dws.as<float>(), dres.as<uint16_t>(),
               dwm.as<uint16_t>(), Mk, c.bias ? db.as<uint16_t>() : nullptr, T, N, K, dy.as<uint16_t>(), nullptr,
               nullptr, c.tile);
    synchronize();
    const auto y2 = download<uint16_t>(dy, static_cast<size_t>(T * N));

    int64_t badA = 0, badTs = 0, badRes = 0, badAcc = 0, badY = 0, badY2 = 0;
    for (size_t i = 0; i < aPacked.size(); ++i)
        badA += aPacked[i] != aPackedRef[i];
    for (size_t i = 0; i < ts.size(); ++i)
        badTs += std::memcmp(&ts[i], &tsRef[i], 4) != 0;
    for (int64_t t = 0; t < T; ++t)
        for (int m = 0; m < ld; ++m) // the padding must be zero: the product reads it
            badRes += res[t * ld + m] != (m < Mk ? resRef[t * Mk + m] : uint16_t(0));
    int64_t maxAccDiff = 0;
    for (size_t i = 0; i < acc.size(); ++i) {
        badAcc += acc[i] != accRef[i];
        maxAccDiff = std::max<int64_t>(maxAccDiff, std::llabs(static_cast<int64_t>(acc[i]) - accRef[i]));
    }
    double maxYUlps = 0.0;
    for (int64_t t = 0; t < T; ++t) {
        for (int64_t n = 0; n < N; ++n) {
            const size_t i = static_cast<size_t>(t * N + n);
            badY2 += y2[i] != y[i];
            const double g = ref::fromBf16(y[i]), e = ref::fromBf16(yRef[i]);
            if (std::isnan(g) || std::isnan(e)) {
                badY += std::isnan(g) != std::isnan(e);
                continue;
            }
            double dabcAbs = 0.0;
            for (int m = 0; m < Mk; ++m)
                dabcAbs += std::fabs(static_cast<double>(ref::fromBf16(resRef[t * Mk + m])) * ref::fromBf16(wm[n * Mk + m]));
            const double ulp = bf16Ulp(std::max(std::fabs(g), std::fabs(e)));
            const double diff = std::fabs(g - e);
            maxYUlps = std::max(maxYUlps, diff / ulp);
            badY += diff > ulp + std::ldexp(dabcAbs, -16);
        }
    }
    const bool ok = badA == 0 && badTs == 0 && badRes == 0 && badAcc == 0 && badY == 0 && badY2 == 0;
    std::string msg = what;
    if (!ok) {
        msg += " | mismatches: a " + std::to_string(badA) + ", tokenScale " + std::to_string(badTs) + ", residual " +
               std::to_string(badRes) + ", acc " + std::to_string(badAcc) + " (max |diff| " + std::to_string(maxAccDiff) +
               "), y " + std::to_string(badY) + " (max " + std::to_string(maxYUlps) + " bf16 ulp), y without acc " +
               std::to_string(badY2);
    }
    r.check(ok, msg);
}

} // namespace

void testW4a4(Report& r)
{
    std::mt19937 rng(20240612u);
    std::vector<Case> cases;
    const int64_t Ts[] = {1, 7, 16, 130};
    const int64_t Ns[] = {8, 72, 200};
    const int64_t Ks[] = {64, 256, 3584};
    int i = 0;
    for (int64_t K : Ks) {
        const int mks[] = {0, 3, static_cast<int>(K / 20)}; // none, a few, ~5% of K
        for (int64_t T : Ts) {
            for (int64_t N : Ns) {
                Case c;
                c.T = T;
                c.N = N;
                c.K = K;
                c.Mk = mks[i % 3];
                c.staticScales = (i / 3) % 2 == 1;
                c.rho = (i / 2) % 2 == 1 ? 0.5f : 0.0f;
                c.bias = i % 2 == 0;
                cases.push_back(c);
                ++i;
            }
        }
    }
    // Enough output tiles for the 128 x 128 configuration, ragged in T and N.
    cases.push_back({1100, 2049, 256, 13, false, 0.5f, true});
    cases.push_back({300, 1000, 3584, 179, true, 0.0f, false});
    // Every tiling forced, on shapes ragged for each (bench_cuda --tile compares their speed).
    for (W4a4Tile t : {W4a4Tile::Small, W4a4Tile::Mid, W4a4Tile::Large, W4a4Tile::Wide, W4a4Tile::Tall,
                       W4a4Tile::Large16, W4a4Tile::Wide16,
                       W4a4Tile::WideK})
        cases.push_back({t == W4a4Tile::Small ? int64_t(37) : int64_t(300), 777, 1024, 130, false, 0.5f, true, t});
    for (const Case& c : cases)
        runCase(r, c, rng);

    // K not a multiple of 64 is refused.
    bool threw = false;
    try {
        w4a4Linear(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 0, nullptr, 1, 8, 96, nullptr);
    } catch (const Error&) {
        threw = true;
    }
    r.check(threw, "w4a4 K=96 (not a multiple of 64) throws mq::cuda::Error");
}

} // namespace mq::cuda::selftest
