#include "quant/rotation.h"

#include "common/error.h"
#include "model/decoder.h"

#include <cmath>
#include <vector>

namespace mq::core {

namespace {

bool isPrime(int64_t q)
{
    if (q < 2)
        return false;
    for (int64_t d = 2; d * d <= q; ++d)
        if (q % d == 0)
            return false;
    return true;
}

// The quadratic character of a modulo the prime q: 0, 1 or -1.
int legendre(int64_t a, int64_t q)
{
    a %= q;
    if (a < 0)
        a += q;
    if (a == 0)
        return 0;
    int64_t r = 1, b = a, e = (q - 1) / 2;
    while (e > 0) { // b^((q-1)/2) mod q
        if (e & 1)
            r = r * b % q;
        b = b * b % q;
        e >>= 1;
    }
    return r == 1 ? 1 : -1;
}

// The Jacobsthal matrix Q_ij = chi(j - i) of the prime q.
std::vector<std::vector<int>> jacobsthal(int64_t q)
{
    std::vector<std::vector<int>> m(static_cast<size_t>(q), std::vector<int>(static_cast<size_t>(q)));
    for (int64_t i = 0; i < q; ++i)
        for (int64_t j = 0; j < q; ++j)
            m[size_t(i)][size_t(j)] = legendre(j - i, q);
    return m;
}

// Paley I: order q + 1, q prime = 3 mod 4. H = I + S, S = [[0, 1^T], [-1, Q]].
at::Tensor paley1(int64_t q)
{
    const int64_t n = q + 1;
    const auto Q = jacobsthal(q);
    at::Tensor h = at::zeros({n, n}, at::kDouble);
    auto a = h.accessor<double, 2>();
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) {
            double s = 0;
            if (i == 0 && j > 0)
                s = 1;
            else if (i > 0 && j == 0)
                s = -1;
            else if (i > 0 && j > 0)
                s = Q[size_t(i - 1)][size_t(j - 1)];
            a[i][j] = s + (i == j ? 1 : 0);
        }
    return h;
}

// Paley II: order 2(q + 1), q prime = 1 mod 4, from the symmetric conference matrix
// C = [[0, 1^T], [1, Q]]: each 0 becomes [[1, -1], [-1, -1]], each +-1 becomes +-[[1, 1], [1, -1]].
at::Tensor paley2(int64_t q)
{
    const int64_t m = q + 1;
    const auto Q = jacobsthal(q);
    at::Tensor h = at::zeros({2 * m, 2 * m}, at::kDouble);
    auto a = h.accessor<double, 2>();
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < m; ++j) {
            int c = 0;
            if (i == 0 && j > 0)
                c = 1;
            else if (i > 0 && j == 0)
                c = 1;
            else if (i > 0 && j > 0)
                c = Q[size_t(i - 1)][size_t(j - 1)];
            const double blk[2][2] = {{double(c == 0 ? 1 : c), double(c == 0 ? -1 : c)},
                                      {double(c == 0 ? -1 : c), double(c == 0 ? -1 : -c)}};
            for (int u = 0; u < 2; ++u)
                for (int v = 0; v < 2; ++v)
                    a[2 * i + u][2 * j + v] = blk[u][v];
        }
    return h;
}

at::Tensor sylvester(int64_t n)
{
    at::Tensor h = at::ones({1, 1}, at::kDouble);
    while (h.size(0) < n) {
        h = at::cat({at::cat({h, h}, 1), at::cat({h, -h}, 1)}, 0);
    }
    return h;
}

} // namespace

at::Tensor hadamardPlusMinusOne(int64_t n, std::string* how)
{
    if (n < 1)
        return {};
    int64_t p2 = 1;
    while (n % (p2 * 2) == 0)
        p2 *= 2;
    const int64_t m = n / p2;
    at::Tensor base;
    std::string name;
    if (m == 1) {
        base = at::ones({1, 1}, at::kDouble);
    } else if (isPrime(m - 1) && (m - 1) % 4 == 3) {
        base = paley1(m - 1);
        name = "paley1 " + std::to_string(m);
    } else if (m % 2 == 0 && isPrime(m / 2 - 1) && (m / 2 - 1) % 4 == 1) {
        base = paley2(m / 2 - 1);
        name = "paley2 " + std::to_string(m);
    } else {
        // An odd part m' with a construction at 2m' or 4m' (e.g. 4 * 43 has none here).
        for (int64_t f = 2; f <= p2 && !base.defined(); f *= 2) {
            const int64_t mm = m * f;
            if (isPrime(mm - 1) && (mm - 1) % 4 == 3) {
                base = paley1(mm - 1);
                name = "paley1 " + std::to_string(mm);
            } else if (isPrime(mm / 2 - 1) && (mm / 2 - 1) % 4 == 1) {
                base = paley2(mm / 2 - 1);
                name = "paley2 " + std::to_string(mm);
            }
            if (base.defined())
                p2 /= f;
        }
        if (!base.defined())
            return {};
    }
    at::Tensor h = p2 > 1 ? at::kron(base, sylvester(p2)) : base;
    if (how) {
        const std::string syl = p2 > 1 ? "sylvester " + std::to_string(p2) : "";
        *how = name.empty() ? syl : (syl.empty() ? name : name + " x " + syl);
    }
    return h;
}

at::Tensor randomOrthogonal(int64_t n, uint64_t seed, std::string* how)
{
    at::Generator gen = at::detail::createCPUGenerator(seed);
    std::string kind;
    at::Tensor h = hadamardPlusMinusOne(n, &kind);
    at::Tensor q;
    if (h.defined()) {
        q = h / std::sqrt(double(n));
        kind = "hadamard (" + kind + ")";
    } else {
        // QR of a Gaussian matrix with R's diagonal made positive: Haar-distributed.
        const at::Tensor g = at::normal(0.0, 1.0, {n, n}, gen, at::TensorOptions().dtype(at::kDouble));
        auto [qq, r] = at::linalg_qr(g);
        q = qq * at::sign(r.diagonal()).unsqueeze(0);
        kind = "random orthogonal (no Hadamard construction of order " + std::to_string(n) + " here)";
    }
    // Random signs on the rows: diag(s) Q stays orthogonal.
    const at::Tensor s = at::randint(0, 2, {n}, gen, at::TensorOptions().dtype(at::kDouble)) * 2 - 1;
    q = (s.unsqueeze(1) * q).to(at::kFloat).contiguous();
    if (how)
        *how = kind + ", random signs from seed " + std::to_string(seed);
    return q;
}

Rotation makeRotation(const DecoderModel& model, uint64_t seed, bool heads)
{
    Rotation r;
    r.residual = randomOrthogonal(model.config().hiddenSize, seed, &r.residualHow);
    r.down = randomOrthogonal(model.config().intermediateSize, seed + 1, &r.downHow);
    if (heads)
        r.head = randomOrthogonal(model.config().headDim, seed + 2, &r.headHow);
    return r;
}

DecoderModel rotateModel(const DecoderModel& model, const std::string& key, bool weightsInBasis)
{
    if (key.empty())
        return model;
    const Rotation r = makeRotation(model, rotationSeed(key), rotatesHeads(key));
    return model.rotated(r.residual, r.down, key, r.head, weightsInBasis);
}

} // namespace mq::core
