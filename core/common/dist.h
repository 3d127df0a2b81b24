#pragma once
// Data parallelism over MPI ranks (README "Running on a cluster"): the calibration batches (and
// the evaluation batches) are split into contiguous blocks, one per rank in rank order, so that
// the concatenation of every rank's rows in rank order is the single process's row order. What
// the stages compute from the rows is then combined across ranks here: statistics and
// evaluation sums are summed, extrema taken, and the row samples MDQFO and the clip search work
// on gathered in rank order (so every rank plans on the very rows a single process would, and
// holds the same plan). Rank 0 alone writes sessions and exports.
//
// Built with MPI where CMake found it (MQ_WITH_MPI); MPI is initialised only when the process was
// started by an MPI launcher (mpirun, srun), so a plain run never touches it. Without MPI, or
// outside a launcher, there is one rank and every call here is a no-op returning its input.
// Every collective must be reached by every rank in the same order (they are called from the
// stages' control flow, which is the same on every rank).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mq::core::dist {

// Initialises MPI where the process runs under a launcher (before any other call); a build
// without MPI started by a launcher of more than one process throws Error (every process would
// run the whole job and write the same files). Returns the number of ranks.
int init(int* argc, char*** argv);
// Ends MPI (after every collective); nothing else is called afterwards.
void finalize();
// Ends every rank of the job at once (MPI_Abort) with `code`; in a single process, std::exit.
[[noreturn]] void abortJob(int code);

int rank();
int size();
// The ranks on this machine (1 outside MPI).
int localSize();
inline bool parallel() { return size() > 1; }

// The contiguous block [begin, end) of n items this rank takes: items are dealt in rank order,
// the first n % size ranks one more.
std::pair<size_t, size_t> share(size_t n);

// Elementwise across ranks, in place (every rank passes the same length).
void sum(std::vector<double>& v);
void sum(std::vector<int64_t>& v);
void sum(std::vector<uint64_t>& v);
void min(std::vector<float>& v);
void max(std::vector<float>& v);
void max(std::vector<int64_t>& v);
double sum(double v);
int64_t sum(int64_t v);
// A float32 or float64 tensor maxed across ranks (a new contiguous CPU tensor).
at::Tensor max(const at::Tensor& t);
// The same in place on a contiguous CPU float32 / float64 tensor, in pieces of at most 2^24
// elements (a 7B down_proj Hessian is 2.9 GB: no second copy of it, and MPI's own buffers stay
// small).
void sumInPlace(at::Tensor& t);
// Rows [n_r, K] of every rank (K equal; n_r may be 0), concatenated in rank order, on every
// rank. float32.
at::Tensor gatherRows(const at::Tensor& rows);
// The rank that does work item `index` of a list every rank walks alike (round robin).
inline int owner(int64_t index) { return int(index % int64_t(size())); }
// Whether item `index` is this rank's (owner(index) == rank()), counted for the report: of the
// items asked about so far, how many were this rank's and how many in all (GPTQ's Linears).
bool mine(int64_t index);
std::pair<int64_t, int64_t> itemsDone();
// Rank `root`'s vector on every rank, resized to root's length; in pieces of at most 2^24
// elements.
void broadcast(std::vector<uint8_t>& v, int root);
void broadcast(std::vector<float>& v, int root);
void broadcast(std::vector<int64_t>& v, int root);
// The row count of the ranks before this one (an exclusive prefix sum) and the total.
std::pair<int64_t, int64_t> rowOffset(int64_t rows);

// Bytes this rank has put into collectives so far (each reduction's buffer, each gather's
// result): the communication volume a stage needs, for bench/README.md's scaling estimate.
int64_t bytesExchanged();

// Waits for every rank.
void barrier();

// Tests of the failure path: where MQ_TEST_FAIL_RANK names this rank and MQ_TEST_FAIL_AT names
// `where` (a stage: "calibrate", "plan", "eval"), throws Error("injected failure ...");
// MQ_TEST_KILL_RANK / MQ_TEST_KILL_AT likewise kill this process with SIGKILL.
void faultPoint(const char* where);

} // namespace mq::core::dist
