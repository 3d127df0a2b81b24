#include "common/dist.h"

#include "common/error.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <limits>

#ifdef MQ_HAVE_MPI
#include <mpi.h>
#endif

namespace mq::core::dist {

namespace {

int g_rank = 0;
int g_size = 1;
int g_localSize = 1;
int64_t g_bytes = 0;
[[maybe_unused]] bool g_mpi = false; // MPI initialised here

// The size an MPI launcher announces in the environment (0: not started by one).
int launcherSize()
{
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"})
        if (const char* s = std::getenv(v))
            return std::max(1, std::atoi(s));
    if (std::getenv("PMIX_RANK")) // Slurm's srun --mpi=pmix sets the rank but not always the size
        if (const char* s = std::getenv("SLURM_NTASKS"))
            return std::max(1, std::atoi(s));
    return 0;
}

#ifdef MQ_HAVE_MPI
void check(int rc, const char* what)
{
    if (rc != MPI_SUCCESS) {
        char text[MPI_MAX_ERROR_STRING];
        int len = 0;
        MPI_Error_string(rc, text, &len);
        throw Error(std::string("MPI ") + what + " failed: " + std::string(text, size_t(len)));
    }
}

template <typename T>
void allreduce(T* data, size_t n, MPI_Datatype type, MPI_Op op, const char* what)
{
    if (!g_mpi || g_size == 1 || n == 0)
        return;
    if (n > size_t(std::numeric_limits<int>::max()))
        throw Error(std::string("MPI ") + what + ": more than 2^31 elements in one reduction");
    check(MPI_Allreduce(MPI_IN_PLACE, data, int(n), type, op, MPI_COMM_WORLD), what);
    g_bytes += int64_t(n * sizeof(T));
}
#endif

} // namespace

int init(int* argc, char*** argv)
{
    const int announced = launcherSize();
#ifdef MQ_HAVE_MPI
    if (announced > 0) {
        int provided = 0;
        check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "init");
        g_mpi = true;
        // Errors are returned (and thrown as Error) instead of ending the job silently.
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        check(MPI_Comm_rank(MPI_COMM_WORLD, &g_rank), "rank");
        check(MPI_Comm_size(MPI_COMM_WORLD, &g_size), "size");
        MPI_Comm local;
        check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &local), "split");
        check(MPI_Comm_size(local, &g_localSize), "local size");
        MPI_Comm_free(&local);
    }
#else
    (void)argc;
    (void)argv;
    if (announced > 1)
        throw Error("started by an MPI launcher with " + std::to_string(announced)
                    + " processes, but this build has no MPI (CMake found no MPI, or MQ_WITH_MPI=OFF): every "
                      "process would run the whole job and write the same files. Install libopenmpi-dev and "
                      "rebuild, or run one process");
#endif
    return g_size;
}

void finalize()
{
#ifdef MQ_HAVE_MPI
    if (g_mpi) {
        MPI_Finalize();
        g_mpi = false;
    }
#endif
}

void abortJob(int code)
{
#ifdef MQ_HAVE_MPI
    if (g_mpi && g_size > 1)
        MPI_Abort(MPI_COMM_WORLD, code);
#endif
    std::exit(code);
}

int rank() { return g_rank; }
int size() { return g_size; }
int localSize() { return g_localSize; }

std::pair<size_t, size_t> share(size_t n)
{
    const size_t p = size_t(g_size), r = size_t(g_rank);
    const size_t base = n / p, extra = n % p;
    const size_t begin = r * base + std::min(r, extra);
    return {begin, begin + base + (r < extra ? 1 : 0)};
}

#ifdef MQ_HAVE_MPI
void sum(std::vector<double>& v) { allreduce(v.data(), v.size(), MPI_DOUBLE, MPI_SUM, "sum"); }
void sum(std::vector<int64_t>& v) { allreduce(v.data(), v.size(), MPI_INT64_T, MPI_SUM, "sum"); }
void sum(std::vector<uint64_t>& v) { allreduce(v.data(), v.size(), MPI_UINT64_T, MPI_SUM, "sum"); }
void min(std::vector<float>& v) { allreduce(v.data(), v.size(), MPI_FLOAT, MPI_MIN, "min"); }
void max(std::vector<float>& v) { allreduce(v.data(), v.size(), MPI_FLOAT, MPI_MAX, "max"); }
void max(std::vector<int64_t>& v) { allreduce(v.data(), v.size(), MPI_INT64_T, MPI_MAX, "max"); }
#else
void sum(std::vector<double>&) {}
void sum(std::vector<int64_t>&) {}
void sum(std::vector<uint64_t>&) {}
void min(std::vector<float>&) {}
void max(std::vector<float>&) {}
void max(std::vector<int64_t>&) {}
#endif

double sum(double v)
{
    std::vector<double> x{v};
    sum(x);
    return x[0];
}

int64_t sum(int64_t v)
{
    std::vector<int64_t> x{v};
    sum(x);
    return x[0];
}

namespace {

// t (contiguous, CPU, float32 or float64) reduced across ranks in place, in pieces of at most
// 2^24 elements.
void reduceInPlace(at::Tensor& t, bool isMax)
{
    if (!parallel())
        return;
    if (t.device().type() != at::kCPU || !t.is_contiguous())
        throw Error("dist: a reduced tensor must be contiguous and on the CPU");
#ifdef MQ_HAVE_MPI
    const MPI_Op op = isMax ? MPI_MAX : MPI_SUM;
    constexpr int64_t piece = int64_t(1) << 24;
    for (int64_t at = 0; at < t.numel(); at += piece) {
        const size_t n = size_t(std::min(piece, t.numel() - at));
        if (t.scalar_type() == at::kFloat)
            allreduce(t.data_ptr<float>() + at, n, MPI_FLOAT, op, "tensor reduction");
        else if (t.scalar_type() == at::kDouble)
            allreduce(t.data_ptr<double>() + at, n, MPI_DOUBLE, op, "tensor reduction");
        else
            throw Error("dist: only float32 and float64 tensors are reduced");
    }
#endif
}

} // namespace

void sumInPlace(at::Tensor& t) { reduceInPlace(t, false); }

at::Tensor max(const at::Tensor& t)
{
    at::Tensor out = t.to(at::kCPU).contiguous().clone();
    reduceInPlace(out, true);
    return out;
}

std::pair<int64_t, int64_t> rowOffset(int64_t rows)
{
    if (!parallel())
        return {0, rows};
    std::vector<int64_t> all(size_t(g_size), 0);
    all[size_t(g_rank)] = rows;
    sum(all);
    int64_t before = 0, total = 0;
    for (int r = 0; r < g_size; ++r) {
        if (r < g_rank)
            before += all[size_t(r)];
        total += all[size_t(r)];
    }
    return {before, total};
}

at::Tensor gatherRows(const at::Tensor& rowsIn)
{
    const at::Tensor rows = rowsIn.to(at::kCPU, at::kFloat).contiguous();
    if (!parallel())
        return rows;
#ifdef MQ_HAVE_MPI
    const int64_t k = rows.size(1);
    std::vector<int64_t> counts(size_t(g_size), 0);
    counts[size_t(g_rank)] = rows.size(0);
    sum(counts);
    std::vector<int> recv(static_cast<size_t>(g_size), 0), displ(static_cast<size_t>(g_size), 0);
    int64_t total = 0;
    for (int r = 0; r < g_size; ++r) {
        const int64_t n = counts[size_t(r)] * k;
        if (n > std::numeric_limits<int>::max() || total + n > std::numeric_limits<int>::max())
            throw Error("MPI gather: more than 2^31 values in one row sample (lower --mdqfo-tokens)");
        recv[size_t(r)] = int(n);
        displ[size_t(r)] = int(total);
        total += n;
    }
    at::Tensor out = at::empty({total / std::max<int64_t>(1, k), k}, at::kFloat);
    check(MPI_Allgatherv(rows.data_ptr<float>(), int(rows.numel()), MPI_FLOAT, out.data_ptr<float>(), recv.data(),
                         displ.data(), MPI_FLOAT, MPI_COMM_WORLD),
          "gather");
    g_bytes += total * int64_t(sizeof(float));
    return out;
#else
    return rows;
#endif
}

namespace {

#ifdef MQ_HAVE_MPI
template <typename T> void broadcastPieces(T* data, int64_t n, MPI_Datatype type, int root)
{
    constexpr int64_t piece = int64_t(1) << 24;
    for (int64_t at = 0; at < n; at += piece)
        check(MPI_Bcast(data + at, int(std::min(piece, n - at)), type, root, MPI_COMM_WORLD), "broadcast");
    if (g_rank == root)
        g_bytes += n * int64_t(sizeof(T));
}

// The vector's length first, then its contents.
template <typename T> void broadcastVector(std::vector<T>& v, MPI_Datatype type, int root)
{
    int64_t n = int64_t(v.size());
    check(MPI_Bcast(&n, 1, MPI_INT64_T, root, MPI_COMM_WORLD), "broadcast");
    v.resize(size_t(n));
    broadcastPieces(v.data(), n, type, root);
}
#endif

} // namespace

void broadcast(std::vector<uint8_t>& v, int root)
{
#ifdef MQ_HAVE_MPI
    if (parallel())
        broadcastVector(v, MPI_UINT8_T, root);
#endif
}

void broadcast(std::vector<float>& v, int root)
{
#ifdef MQ_HAVE_MPI
    if (parallel())
        broadcastVector(v, MPI_FLOAT, root);
#endif
}

void broadcast(std::vector<int64_t>& v, int root)
{
#ifdef MQ_HAVE_MPI
    if (parallel())
        broadcastVector(v, MPI_INT64_T, root);
#endif
}

int64_t bytesExchanged() { return g_bytes; }

namespace {
int64_t g_itemsMine = 0, g_itemsAll = 0;
} // namespace

bool mine(int64_t index)
{
    const bool m = owner(index) == rank();
    g_itemsMine += m ? 1 : 0;
    ++g_itemsAll;
    return m;
}

std::pair<int64_t, int64_t> itemsDone() { return {g_itemsMine, g_itemsAll}; }

void barrier()
{
#ifdef MQ_HAVE_MPI
    if (g_mpi && g_size > 1)
        check(MPI_Barrier(MPI_COMM_WORLD), "barrier");
#endif
}

void faultPoint(const char* where)
{
    auto matches = [&](const char* rankVar, const char* atVar) {
        const char* r = std::getenv(rankVar);
        const char* a = std::getenv(atVar);
        return r && a && std::atoi(r) == g_rank && std::string(a) == where;
    };
    if (matches("MQ_TEST_KILL_RANK", "MQ_TEST_KILL_AT"))
        std::raise(SIGKILL);
    if (matches("MQ_TEST_FAIL_RANK", "MQ_TEST_FAIL_AT"))
        throw Error(std::string("injected failure at ") + where + " (MQ_TEST_FAIL_RANK=" + std::to_string(g_rank) + ")");
}

} // namespace mq::core::dist
