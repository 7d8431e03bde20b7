// The batch job: read (parallel parts) -> group per member (per partition)
// -> score members in order (blocks over threads) -> write in order.
#include "lib/batch/batch.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <queue>
#include <thread>
#include <utility>

#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "lib/base/hash.h"
#include "lib/base/strings.h"
#include "lib/batch/progress.h"
#include "lib/engine/engine.h"
#include "lib/engine/member_state.h"
#include "lib/io/csv_chunk.h"
#include "lib/io/json_writer.h"
#include "lib/io/jsonl_reader.h"
#include "lib/io/members_csv.h"
#include "lib/io/pb_reader.h"
#include "lib/model/compiled_model.h"

namespace leadscore::batch {

namespace {

// ---------------------------------------------------------------------------
// Compact records

constexpr uint8_t kHasTime = 1;
constexpr uint8_t kBad = 2;    // rejected while reading (invalid)
constexpr uint8_t kPairs = 4;  // has profile pairs or attrs a condition reads

// One row of the log, 40 bytes. Its strings are in a blob (see
// PartBuilder::Add): member_id, event_id, account_id, group_id, channel,
// attrs, profile. The blob stays where the reader wrote it; the scoring
// reads it only for what the record alone does not say (ScoreMember).
struct EventRec {
  int64_t time;
  double value;
  uint64_t id_hash;  // StableHash(event_id), Engine::EventIdHash
  const uint8_t* blob;
  uint32_t type;  // TypeTable id
  uint8_t flags;
};
static_assert(sizeof(EventRec) == 40, "EventRec should stay 40 bytes");

// Memory for records and strings comes in 64 KB blocks from a pool of the
// job: blocks given back (a part once grouped, a bucket once placed) are
// used again, so that the job's resident memory is about one copy of the
// log however many times its records move. Blocks are mapped directly
// (not malloc'd). Up to 32 MB of free blocks stay resident, the ones given
// back last, which are handed out first; older free blocks are given back
// to the system (and handed out only when no resident one is left, since
// the system has to fault them in again).
class BlockPool {
 public:
  static constexpr size_t kBlock = 64 << 10;
  // Free blocks beyond this many bytes are given back to the system.
  static constexpr size_t kKeepFree = 32 << 20;
  BlockPool() = default;
  ~BlockPool() {
    for (void* slab : mapped_) munmap(slab, kSlab);
  }
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  uint8_t* Get() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!resident_.empty()) {
      uint8_t* b = resident_.back();
      resident_.pop_back();
      return b;
    }
    if (!released_.empty()) {
      uint8_t* b = released_.back();
      released_.pop_back();
      return b;
    }
    // Mapped 4 MB at a time, for fewer mappings. (Not MAP_POPULATE: that
    // holds the address space lock while the other threads fault.)
    void* p = mmap(nullptr, kSlab, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    mapped_.push_back(p);
    uint8_t* slab = static_cast<uint8_t*>(p);
    for (size_t off = kSlab - kBlock; off > 0; off -= kBlock) released_.push_back(slab + off);
    return slab;
  }
  void Put(uint8_t* block) {
    std::lock_guard<std::mutex> lock(mu_);
    resident_.push_back(block);
    if (give_back_ && resident_.size() * kBlock > kKeepFree) {
      uint8_t* oldest = resident_.front();
      resident_.pop_front();
      madvise(oldest, kBlock, MADV_DONTNEED);
      released_.push_back(oldest);
    }
  }
  int64_t mapped_bytes() const { return static_cast<int64_t>(mapped_.size() * kSlab); }
  // From now on free blocks are not given back to the system (the pool is
  // about to be unmapped).
  void KeepFreeBlocks() {
    std::lock_guard<std::mutex> lock(mu_);
    give_back_ = false;
  }

 private:
  static constexpr size_t kSlab = 64 * kBlock;
  std::mutex mu_;
  bool give_back_ = true;
  std::deque<uint8_t*> resident_;   // free, in the order given back
  std::vector<uint8_t*> released_;  // free, not resident (or never touched)
  std::vector<void*> mapped_;
};

// Bytes that never move, in pool blocks (a string longer than a block gets
// a mapping of its own).
class Arena {
 public:
  Arena() = default;
  explicit Arena(BlockPool* pool) : pool_(pool) {}
  Arena(Arena&& o) noexcept { *this = std::move(o); }
  Arena& operator=(Arena&& o) noexcept {
    Release();
    pool_ = o.pool_;
    blocks_ = std::move(o.blocks_);
    big_ = std::move(o.big_);
    next_ = o.next_;
    left_ = o.left_;
    used_ = o.used_;
    o.blocks_.clear();
    o.big_.clear();
    o.next_ = nullptr;
    o.left_ = 0;
    o.used_ = 0;
    return *this;
  }
  ~Arena() { Release(); }

  uint8_t* Alloc(size_t n) {
    used_ += static_cast<int64_t>(n);
    if (n > BlockPool::kBlock / 4) {
      void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      big_.emplace_back(static_cast<uint8_t*>(p), n);
      return static_cast<uint8_t*>(p);
    }
    if (n > left_) {
      blocks_.push_back(pool_->Get());
      next_ = blocks_.back();
      left_ = BlockPool::kBlock;
    }
    uint8_t* out = next_;
    next_ += n;
    left_ -= n;
    return out;
  }
  int64_t used() const { return used_; }
  // Gives every block back.
  void Release() {
    for (uint8_t* b : blocks_) pool_->Put(b);
    for (auto& [p, n] : big_) munmap(p, n);
    blocks_.clear();
    big_.clear();
    next_ = nullptr;
    left_ = 0;
    used_ = 0;
  }

 private:
  BlockPool* pool_ = nullptr;
  std::vector<uint8_t*> blocks_;
  std::vector<std::pair<uint8_t*, size_t>> big_;
  uint8_t* next_ = nullptr;
  size_t left_ = 0;
  int64_t used_ = 0;
};

// A list of plain values in pool blocks, read back in order.
template <typename T>
class BlockList {
 public:
  static constexpr size_t kPerBlock = BlockPool::kBlock / sizeof(T);
  BlockList() = default;
  explicit BlockList(BlockPool* pool) : pool_(pool) {}
  BlockList(BlockList&& o) noexcept
      : pool_(o.pool_), blocks_(std::move(o.blocks_)), size_(o.size_) {
    o.blocks_.clear();
    o.size_ = 0;
  }
  BlockList& operator=(BlockList&& o) noexcept {
    Release();
    pool_ = o.pool_;
    blocks_ = std::move(o.blocks_);
    size_ = o.size_;
    o.blocks_.clear();
    o.size_ = 0;
    return *this;
  }
  ~BlockList() { Release(); }

  void push_back(const T& v) {
    if (size_ == blocks_.size() * kPerBlock) blocks_.push_back(pool_->Get());
    reinterpret_cast<T*>(blocks_.back())[size_ % kPerBlock] = v;
    ++size_;
  }
  size_t size() const { return size_; }
  // Calls fn(value) for each, in order.
  template <typename Fn>
  void ForEach(Fn fn) const {
    size_t left = size_;
    for (uint8_t* b : blocks_) {
      const T* v = reinterpret_cast<const T*>(b);
      const size_t n = std::min(left, kPerBlock);
      for (size_t i = 0; i < n; ++i) fn(v[i]);
      left -= n;
    }
  }
  void Release() {
    for (uint8_t* b : blocks_) pool_->Put(b);
    blocks_.clear();
    size_ = 0;
  }

 private:
  BlockPool* pool_ = nullptr;
  std::vector<uint8_t*> blocks_;
  size_t size_ = 0;
};

inline size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline uint8_t* PutVarint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

inline uint8_t* PutString(uint8_t* p, std::string_view s) {
  p = PutVarint(p, s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

inline const uint8_t* GetVarint(const uint8_t* p, uint64_t* v) {
  uint64_t out = 0;
  int shift = 0;
  while (*p & 0x80) {
    out |= static_cast<uint64_t>(*p++ & 0x7f) << shift;
    shift += 7;
  }
  out |= static_cast<uint64_t>(*p++) << shift;
  *v = out;
  return p;
}

inline const uint8_t* GetString(const uint8_t* p, std::string_view* s) {
  uint64_t n;
  p = GetVarint(p, &n);
  *s = std::string_view(reinterpret_cast<const char*>(p), n);
  return p + n;
}

size_t PairsSize(const std::vector<KeyValue>& pairs) {
  size_t n = VarintSize(pairs.size());
  for (const KeyValue& kv : pairs) {
    n += VarintSize(kv.key.size()) + kv.key.size() + VarintSize(kv.value.size()) +
         kv.value.size();
  }
  return n;
}

uint8_t* PutPairs(uint8_t* p, const std::vector<KeyValue>& pairs) {
  p = PutVarint(p, pairs.size());
  for (const KeyValue& kv : pairs) {
    p = PutString(p, kv.key);
    p = PutString(p, kv.value);
  }
  return p;
}

// Appends the pairs PutPairs wrote at `p` to `*pairs`; their number in `*n`.
const uint8_t* GetPairs(const uint8_t* p, std::vector<KeyValue>* pairs, uint64_t* n) {
  p = GetVarint(p, n);
  for (uint64_t i = 0; i < *n; ++i) {
    KeyValue kv;
    p = GetString(p, &kv.key);
    p = GetString(p, &kv.value);
    pairs->push_back(kv);
  }
  return p;
}

// Event types, interned once for the whole job.
class TypeTable {
 public:
  uint32_t Intern(std::string_view name, absl::string_view* stored) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = ids_.find(AsAbsl(name));
    if (it == ids_.end()) {
      names_.emplace_back(name);
      const std::string& s = names_.back();
      it = ids_.emplace(absl::string_view(s.data(), s.size()),
                        static_cast<uint32_t>(names_.size() - 1))
               .first;
    }
    *stored = it->first;
    return it->second;
  }
  size_t size() const { return names_.size(); }
  const std::string& name(uint32_t id) const { return names_[id]; }

 private:
  std::mutex mu_;
  std::deque<std::string> names_;
  absl::flat_hash_map<absl::string_view, uint32_t> ids_;
};

struct BadRecord {
  int64_t line;        // relative to the part's line_base
  int64_t offset;      // byte offset in the file
  int64_t error_line;  // relative line named in the message, or -1
  std::string message;
};

// The records read from one part of an input.
struct Part {
  int file = 0;
  int64_t line_base = 0;  // line (CSV, JSON Lines) or record index of line 0
  int64_t rows = 0;
  // Per partition: its records, in log order, and their strings.
  std::vector<BlockList<EventRec>> recs;
  std::vector<Arena> arenas;
  std::vector<BadRecord> bad;
  std::vector<std::pair<std::string, int64_t>> unknown_fields;  // first line each
  bool has_max_time = false;
  int64_t max_time = 0;

  void Reset(int partitions, BlockPool* pool) {
    rows = 0;
    recs.clear();
    arenas.clear();
    for (int p = 0; p < partitions; ++p) {
      recs.emplace_back(pool);
      arenas.emplace_back(pool);
    }
    bad.clear();
    unknown_fields.clear();
    has_max_time = false;
    max_time = 0;
  }
};

// What every PartBuilder of a job shares.
struct BuildContext {
  BlockPool* pool;
  TypeTable* types;
  int partitions;
  Progress* progress;
  // The event attributes some condition of the model reads: the others are
  // not kept (nothing else reads them).
  const std::vector<std::string>* read_attrs;
};

// Turns RawEvents into EventRecs of a Part.
class PartBuilder final : public io::JsonlSink {
 public:
  PartBuilder(Part* part, const BuildContext& ctx)
      : part_(part), types_(ctx.types), partitions_(ctx.partitions),
        progress_(ctx.progress), read_attrs_(ctx.read_attrs) {}
  ~PartBuilder() override { Flush(); }

  void Add(const io::RawEvent& e) override {
    EventRec rec;
    rec.time = e.time;
    rec.value = e.value;
    rec.id_hash = StableHash(e.event_id);
    rec.flags = (e.has_time ? kHasTime : 0) | (e.ok() ? 0 : kBad);
    rec.type = TypeId(e.type);
    attrs_.clear();
    for (const KeyValue& kv : e.attrs) {
      for (const std::string& key : *read_attrs_) {
        if (kv.key == key) {
          attrs_.push_back(kv);
          break;
        }
      }
    }
    const size_t size = VarintSize(e.member_id.size()) + e.member_id.size() +
                        VarintSize(e.event_id.size()) + e.event_id.size() +
                        VarintSize(e.account_id.size()) + e.account_id.size() +
                        VarintSize(e.group_id.size()) + e.group_id.size() +
                        VarintSize(e.channel.size()) + e.channel.size() +
                        PairsSize(attrs_) + PairsSize(e.profile);
    const int partition =
        partitions_ == 1
            ? 0
            : static_cast<int>((StableHash(e.member_id) >> 32) % partitions_);
    uint8_t* blob = part_->arenas[partition].Alloc(size);
    uint8_t* p = PutString(blob, e.member_id);
    p = PutString(p, e.event_id);
    p = PutString(p, e.account_id);
    p = PutString(p, e.group_id);
    p = PutString(p, e.channel);
    p = PutPairs(p, attrs_);
    PutPairs(p, e.profile);
    if (!attrs_.empty() || !e.profile.empty()) rec.flags |= kPairs;
    rec.blob = blob;
    part_->recs[partition].push_back(rec);
    ++part_->rows;
    if (!e.ok()) {
      part_->bad.push_back(BadRecord{e.line, e.offset, e.error_line, e.error});
    } else if (std::isfinite(e.value)) {
      if (!part_->has_max_time || e.time > part_->max_time) part_->max_time = e.time;
      part_->has_max_time = true;
    }
    if (progress_ != nullptr && ++unreported_ == 65536) Flush();
  }

  void UnknownField(std::string_view name, int64_t line) override {
    for (const auto& [n, l] : part_->unknown_fields) {
      if (n == name) return;
    }
    part_->unknown_fields.emplace_back(std::string(name), line);
  }

  void Flush() {
    if (progress_ != nullptr && unreported_ > 0) progress_->AddRows(unreported_);
    unreported_ = 0;
  }

 private:
  // The type's id: from a small cache in front of the map for a type of at
  // most 16 bytes (most are: "message.post"), which its length and its first
  // and last 8 bytes (overlapping) identify exactly, so that a row costs
  // two loads and a compare, no hash of the string and no memcmp call.
  uint32_t TypeId(std::string_view type) {
    const size_t n = type.size();
    if (n > 16) return MappedTypeId(type);
    const uint64_t first = LoadUpTo8(type.data(), std::min<size_t>(n, 8));
    const uint64_t last = n > 8 ? LoadUpTo8(type.data() + n - 8, 8) : 0;
    TypeSlot& slot =
        type_cache_[((first ^ (last * 0x9e3779b97f4a7c15ULL) ^ n) * 0xff51afd7ed558ccdULL) >>
                    (64 - kTypeCacheBits)];
    if (slot.len1 == n + 1 && slot.first == first && slot.last == last) return slot.id;
    const uint32_t id = MappedTypeId(type);
    slot = TypeSlot{first, last, static_cast<uint32_t>(n + 1), id};
    return id;
  }
  uint32_t MappedTypeId(std::string_view type) {
    auto it = local_types_.find(AsAbsl(type));
    if (it != local_types_.end()) return it->second;
    absl::string_view stored;
    const uint32_t id = types_->Intern(type, &stored);
    local_types_.emplace(stored, id);
    return id;
  }

  Part* part_;
  TypeTable* types_;
  int partitions_;
  Progress* progress_;
  const std::vector<std::string>* read_attrs_;
  std::vector<KeyValue> attrs_;
  int64_t unreported_ = 0;
  absl::flat_hash_map<absl::string_view, uint32_t> local_types_;
  struct TypeSlot {
    uint64_t first = 0, last = 0;
    uint32_t len1 = 0;  // length + 1; 0: empty
    uint32_t id = 0;
  };
  static constexpr int kTypeCacheBits = 8;
  TypeSlot type_cache_[1 << kTypeCacheBits];
};

// A zeroed array in memory of its own, in 2 MB pages when the system has
// them (transparent huge pages on request): for tables read at random,
// where small pages would cost a TLB miss per access.
template <typename T>
class HugeArray {
 public:
  HugeArray() = default;
  // (Getting 2 MB pages can stall while the kernel compacts memory: worth it
  // only for a table read at random, as the member table is.)
  explicit HugeArray(size_t n) : size_(n) {
    bytes_ = (n * sizeof(T) + kHugePage - 1) / kHugePage * kHugePage;
    if (bytes_ == 0) return;
    // Over-map by a huge page to align the start.
    void* p = mmap(nullptr, bytes_ + kHugePage, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    const uintptr_t raw = reinterpret_cast<uintptr_t>(p);
    const uintptr_t aligned = (raw + kHugePage - 1) / kHugePage * kHugePage;
    if (aligned > raw) munmap(p, aligned - raw);
    const uintptr_t end = raw + bytes_ + kHugePage;
    if (end > aligned + bytes_) munmap(reinterpret_cast<void*>(aligned + bytes_),
                                       end - aligned - bytes_);
    data_ = reinterpret_cast<T*>(aligned);
    madvise(data_, bytes_, MADV_HUGEPAGE);
  }
  HugeArray(HugeArray&& o) noexcept { *this = std::move(o); }
  HugeArray& operator=(HugeArray&& o) noexcept {
    if (data_ != nullptr) munmap(data_, bytes_);
    data_ = o.data_;
    size_ = o.size_;
    bytes_ = o.bytes_;
    o.data_ = nullptr;
    o.size_ = o.bytes_ = 0;
    return *this;
  }
  ~HugeArray() {
    if (data_ != nullptr) munmap(data_, bytes_);
  }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  size_t size() const { return size_; }

 private:
  static constexpr size_t kHugePage = 2 << 20;
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t bytes_ = 0;
};

// A member of a partition: its id and its records in order.
struct MemberSpan {
  absl::string_view id;
  EventRec* recs;
  uint32_t count;
};

struct Partition {
  // The records, grouped per member (each member's side by side, in apply
  // order), in pool blocks: those the buckets gave back as they were placed.
  Arena recs;
  size_t num_recs = 0;
  std::vector<MemberSpan> members;  // sorted by id
  std::unique_ptr<char[]> id_bytes;  // the members' ids, in that order
  size_t id_size = 0;                // bytes of id_bytes
};

// Where a member is: partition and index in its members.
struct MemberRef {
  uint32_t partition;
  uint32_t index;
};

// LEADSCORE_TIMING=1: the wall time of each phase on stderr (profiling).
class PhaseTimer {
 public:
  PhaseTimer() : on_(std::getenv("LEADSCORE_TIMING") != nullptr) {
    last_ = std::chrono::steady_clock::now();
    last_cpu_ = Cpu();
    last_faults_ = Faults();
  }
  void Mark(const char* phase) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    const double cpu = Cpu();
    const int64_t faults = Faults();
    std::fprintf(stderr, "timing: %-10s %8.1f ms wall %8.1f ms cpu %8lld page faults\n",
                 phase, std::chrono::duration<double, std::milli>(now - last_).count(),
                 cpu - last_cpu_, static_cast<long long>(faults - last_faults_));
    last_ = now;
    last_cpu_ = cpu;
    last_faults_ = faults;
  }

 private:
  // Minor page faults of the process so far (all threads).
  static int64_t Faults() {
    rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
  }
  static double Cpu() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
  }
  bool on_;
  std::chrono::steady_clock::time_point last_;
  double last_cpu_;
  int64_t last_faults_;
};

std::string FormatTime(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

// Runs fn(0..n-1) on up to `threads` threads (the caller's among them).
template <typename Fn>
void ParallelFor(int threads, int n, Fn fn) {
  if (threads <= 1 || n <= 1) {
    for (int i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<int> next{0};
  auto work = [&] {
    for (int i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  std::vector<std::thread> pool;
  const int extra = std::min(threads, n) - 1;
  pool.reserve(extra);
  for (int t = 0; t < extra; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
}

// Appends every change to a block's text.
class TextSink final : public ChangeSink {
 public:
  explicit TextSink(const Model* model) : json_(*model) {}
  void set_out(std::string* out) { out_ = out; }
  void OnChange(const Change& change) override {
    json_.AppendChangeLine(out_, change);
  }

 private:
  io::JsonLineWriter json_;
  std::string* out_ = nullptr;
};

}  // namespace

// ---------------------------------------------------------------------------

class BatchJob::Impl {
 public:
  Impl(std::shared_ptr<const Model> model, BatchOptions options)
      : model_(std::move(model)), options_(options) {
    options_.threads = std::clamp(options_.threads, 1, kMaxThreads);
    partitions_ = options_.threads;
    if (options_.part_bytes < 64) options_.part_bytes = 64;
    reads_group_or_channel_ = model_->compiled().reads_event_group_or_channel;
  }
  // The pool is unmapped right after the parts and partitions give their
  // blocks back: giving them to the system one by one first is wasted work.
  ~Impl() { pool_.KeepFreeBlocks(); }

  struct FileInfo {
    std::string name;
    io::LogFormat format;
  };

  absl::Status ReadInput(io::InputBytes* in, const std::string& name,
                         io::LogFormat format, std::ostream* diag,
                         BatchSummary* summary, bool* strict_failure);
  absl::Status ReadStream(io::EventSource* source, std::ostream* diag,
                          BatchSummary* summary, bool* strict_failure);
  absl::Status Score(std::ostream* members_out, std::ostream* changes_out,
                     BatchSummary* summary);
  absl::Status Visit(const std::vector<ScoreVisitor*>& visitors,
                     BatchSummary* summary);
  MemoryUse memory_use() const;
  std::atomic<int64_t>* progress_bytes() {
    return options_.progress == nullptr ? nullptr
                                        : options_.progress->bytes_counter();
  }

 private:
  struct Task {
    size_t begin = 0;
    size_t limit = 0;
    size_t end = 0;         // where its last record ended
    int64_t newlines = 0;   // line breaks passed (CSV, JSON Lines)
    bool done = false;
    std::unique_ptr<Part> part;
  };

  void ParseTask(io::InputBytes* in, io::LogFormat format, const io::CsvFile& csv,
                 const io::JsonlFile& jsonl, Task* task, size_t begin);
  std::string BadMessage(const Part& part, const BadRecord& bad) const;
  void Emit(std::ostream* diag, const std::string& text);
  void Group(int p, Partition* out);
  // Groups the partitions and merges their members in member_id order.
  std::vector<MemberRef> Prepare(BatchSummary* summary, PhaseTimer* timer);
  void SumStats(const std::vector<StoreStats>& stats, BatchSummary* summary);
  // Scores one member; changes go to `sink`. The member read at the as-of
  // time goes to `members_text` or, when `visitor` is set, to the visitor.
  // What one scoring thread keeps from member to member: its engine, one
  // member state (reset for each member), one view and the event's pairs.
  struct Scorer {
    Scorer(const internal::CompiledModel& cm, const Model& model)
        : engine(cm), json(model) {}
    internal::Engine engine;
    io::JsonLineWriter json;
    std::unique_ptr<internal::MemberState> state;
    MemberView view;
    std::vector<KeyValue> pairs;
  };
  void ScoreMember(const MemberSpan& m, Scorer* scorer, ChangeSink* sink,
                   ScoreVisitor* visitor, std::string* members_text,
                   StoreStats* stats);

  BuildContext build_context() {
    return BuildContext{&pool_, &types_, partitions_, options_.progress,
                        &model_->compiled().event_attrs};
  }

  std::shared_ptr<const Model> model_;
  BatchOptions options_;
  int partitions_ = 1;
  BlockPool pool_;  // first: the parts and partitions give their blocks back to it
  TypeTable types_;
  std::vector<FileInfo> files_;
  std::vector<std::unique_ptr<Part>> parts_;
  std::vector<Partition> grouped_;
  std::vector<const internal::Dispatch*> dispatch_;
  std::vector<internal::Dispatch> built_dispatch_;
  bool has_max_time_ = false;
  int64_t max_time_ = 0;
  bool reads_group_or_channel_ = false;
  bool has_as_of_ = false;
  int64_t as_of_ = 0;
  int64_t members_ = 0;
};

void BatchJob::Impl::ParseTask(io::InputBytes* in, io::LogFormat format,
                               const io::CsvFile& csv, const io::JsonlFile& jsonl,
                               Task* task, size_t begin) {
  const std::string_view data = in->data();
  task->part->Reset(partitions_, &pool_);
  PartBuilder builder(task->part.get(), build_context());
  task->newlines = 0;
  if (begin >= task->limit) {
    task->end = begin;
    return;
  }
  switch (format) {
    case io::LogFormat::kCsv:
      task->end = csv.ParseRange(begin, task->limit, &builder, &task->newlines);
      break;
    case io::LogFormat::kJsonl:
      task->end = jsonl.ParseRange(begin, task->limit, &builder, &task->newlines);
      break;
    case io::LogFormat::kPb:
      io::ParsePbRange(data, begin, task->limit, &builder);
      task->end = task->limit;
      break;
  }
}

std::string BatchJob::Impl::BadMessage(const Part& part, const BadRecord& bad) const {
  const FileInfo& f = files_[part.file];
  std::string message = bad.message;
  if (bad.error_line >= 0) {
    message = absl::StrReplaceAll(
        message, {{io::kLineMark, absl::StrCat(part.line_base + bad.error_line)}});
  }
  if (f.format == io::LogFormat::kPb) {
    return absl::StrCat(f.name, ": record ", part.line_base + bad.line + 1,
                        " at byte ", bad.offset, ": ", message);
  }
  return absl::StrCat(f.name, ":", part.line_base + bad.line, ": ", message);
}

void BatchJob::Impl::Emit(std::ostream* diag, const std::string& text) {
  if (text.empty()) return;
  if (options_.progress != nullptr) options_.progress->Suspend();
  diag->write(text.data(), text.size());
  diag->flush();
  if (options_.progress != nullptr) options_.progress->Resume();
}

absl::Status BatchJob::Impl::ReadInput(io::InputBytes* in, const std::string& name,
                                       io::LogFormat format, std::ostream* diag,
                                       BatchSummary* summary,
                                       bool* strict_failure) {
  PhaseTimer timer;
  const int file = static_cast<int>(files_.size());
  files_.push_back(FileInfo{name, format});
  const std::string_view data = in->data();
  const size_t part_bytes = options_.part_bytes;
  std::vector<std::string> warnings;

  // Where the parts start.
  io::CsvFile csv;
  io::JsonlFile jsonl(data);
  io::PbLayout pb;
  std::vector<size_t> starts;
  int64_t first_line = 1;
  if (format == io::LogFormat::kPb) {
    pb = io::ScanPbStream(data, part_bytes);
    starts = pb.part_begin;
  } else {
    size_t begin;
    if (format == io::LogFormat::kCsv) {
      if (absl::Status s = csv.Open(data, name, &warnings,
                                    &model_->compiled().event_attrs);
          !s.ok()) {
        return s;
      }
      begin = csv.data_begin();
      first_line = csv.data_begin_line();
    } else {
      begin = jsonl.data_begin();
    }
    starts = io::LineStarts(data, begin, part_bytes);
  }
  const size_t data_end = format == io::LogFormat::kPb ? pb.valid_end : data.size();
  std::vector<Task> tasks(starts.size());
  for (size_t k = 0; k < tasks.size(); ++k) {
    tasks[k].begin = starts[k];
    tasks[k].limit = k + 1 < starts.size() ? starts[k + 1] : data_end;
    tasks[k].part = std::make_unique<Part>();
  }

  // Parse the parts on every thread. The frontier checks each part in
  // order: a CSV part that did not start where the one before it ended is
  // read again from there; then the bytes before are given back.
  std::mutex mu;
  int reparsed = 0;
  size_t frontier = 0;
  size_t verified_end = tasks.empty() ? 0 : tasks[0].begin;
  size_t released = 0;
  auto finish = [&](size_t k) {
    std::lock_guard<std::mutex> lock(mu);
    tasks[k].done = true;
    while (frontier < tasks.size() && tasks[frontier].done) {
      Task& t = tasks[frontier];
      if (t.begin != verified_end) {
        ParseTask(in, format, csv, jsonl, &t, verified_end);
        t.begin = verified_end;
        ++reparsed;
      }
      verified_end = std::max(t.end, t.begin);
      if (options_.progress != nullptr && !in->compressed()) {
        options_.progress->AddBytes(static_cast<int64_t>(verified_end - released));
      }
      in->Release(released, verified_end);
      released = verified_end;
      ++frontier;
    }
  };
  timer.Mark("split");
  ParallelFor(options_.threads, static_cast<int>(tasks.size()), [&](int k) {
    ParseTask(in, format, csv, jsonl, &tasks[k], tasks[k].begin);
    finish(static_cast<size_t>(k));
  });
  timer.Mark("parse");
  if (std::getenv("LEADSCORE_TIMING") != nullptr) {
    std::fprintf(stderr, "timing: %zu parts, %d read again\n", tasks.size(), reparsed);
  }

  // Line numbers of the parts, and the records of a broken protobuf tail.
  int64_t line = first_line;
  for (size_t k = 0; k < tasks.size(); ++k) {
    Part& part = *tasks[k].part;
    part.file = file;
    if (format == io::LogFormat::kPb) {
      part.line_base = pb.part_first_record[k];
    } else {
      part.line_base = line;
      line += tasks[k].newlines;
    }
  }
  if (format == io::LogFormat::kPb && pb.broken) {
    auto tail = std::make_unique<Part>();
    tail->Reset(partitions_, &pool_);
    tail->file = file;
    tail->line_base = pb.num_records;
    {
      PartBuilder builder(tail.get(), build_context());
      io::RawEvent ev;
      ev.offset = static_cast<int64_t>(pb.valid_end);
      ev.error = pb.broken_error;
      builder.Add(ev);
    }
    Task t;
    t.part = std::move(tail);
    tasks.push_back(std::move(t));
  }

  // Messages, in log order.
  std::string text;
  for (const std::string& w : warnings) absl::StrAppend(&text, w, "\n");
  if (format == io::LogFormat::kJsonl) {
    std::vector<std::pair<std::string, int64_t>> unknown;
    for (const Task& t : tasks) {
      for (const auto& entry : t.part->unknown_fields) {
        const auto& field = entry.first;
        if (std::none_of(unknown.begin(), unknown.end(),
                         [&](const auto& u) { return u.first == field; })) {
          unknown.emplace_back(field, t.part->line_base + entry.second);
        }
      }
    }
    for (const auto& [field, l] : unknown) {
      absl::StrAppend(&text, name, ":", l, ": warning: unknown field ",
                      io::ShowCell(field), " ignored\n");
    }
  }
  for (const Task& t : tasks) {
    const Part& part = *t.part;
    summary->rows_read += part.rows;
    summary->bad_rows += static_cast<int64_t>(part.bad.size());
    for (const BadRecord& bad : part.bad) {
      const std::string message = BadMessage(part, bad);
      absl::StrAppend(&text, message, "\n");
      if (options_.strict) {
        Emit(diag, text);
        *strict_failure = true;
        return absl::InvalidArgumentError(message);
      }
    }
    if (part.has_max_time && (!has_max_time_ || part.max_time > max_time_)) {
      max_time_ = part.max_time;
      has_max_time_ = true;
    }
  }
  Emit(diag, text);
  for (Task& t : tasks) {
    t.part->bad.clear();
    t.part->bad.shrink_to_fit();
    parts_.push_back(std::move(t.part));
  }
  return absl::OkStatus();
}

absl::Status BatchJob::Impl::ReadStream(io::EventSource* source,
                                        std::ostream* diag, BatchSummary* summary,
                                        bool* strict_failure) {
  const int file = static_cast<int>(files_.size());
  files_.push_back(FileInfo{source->name(), io::LogFormat::kCsv});
  std::string text;
  for (const std::string& w : source->warnings()) absl::StrAppend(&text, w, "\n");
  Emit(diag, text);
  auto part = std::make_unique<Part>();
  part->Reset(partitions_, &pool_);
  part->file = file;
  part->line_base = 0;
  {
    PartBuilder builder(part.get(), build_context());
    io::EventRecord record;
    io::RawEvent ev;
    while (source->Next(&record)) {
      ev.Clear();
      io::ToRawEvent(record, &ev);
      builder.Add(ev);
      ++summary->rows_read;
      if (!part->bad.empty()) {
        ++summary->bad_rows;
        const std::string message = BadMessage(*part, part->bad.back());
        Emit(diag, message + "\n");
        part->bad.clear();
        if (options_.strict) {
          *strict_failure = true;
          return absl::InvalidArgumentError(message);
        }
      }
    }
  }
  if (!source->status().ok()) return source->status();
  if (part->has_max_time && (!has_max_time_ || part->max_time > max_time_)) {
    max_time_ = part->max_time;
    has_max_time_ = true;
  }
  parts_.push_back(std::move(part));
  return absl::OkStatus();
}

// The first 8 bytes of `s`, big-endian, zero-padded: comparing these
// compares the strings' first bytes as memcmp would.
inline uint64_t Prefix8(std::string_view s) {
  return __builtin_bswap64(LoadUpTo8(s.data(), std::min<size_t>(8, s.size())));
}

// Member ids -> dense indices, for one partition: open addressing on the
// 64-bit hash the records carry, with the first 16 bytes of each id kept
// in the slot, so that a lookup reads one slot and, for ids of at most 16
// bytes, nothing else.
class MemberTable {
 public:
  explicit MemberTable(size_t expected) {
    size_t cap = 16;
    while (cap < expected * 2) cap <<= 1;
    slots_ = HugeArray<Slot>(cap);
    mask_ = cap - 1;
  }
  void Prefetch(uint64_t hash) const { __builtin_prefetch(&slots_[hash & mask_]); }
  // The index of `id`, or a new one (== ids().size() before the call).
  uint32_t Intern(uint64_t hash, std::string_view id) {
    const uint64_t w0 = LoadUpTo8(id.data(), std::min<size_t>(8, id.size()));
    const uint64_t w1 =
        id.size() > 8 ? LoadUpTo8(id.data() + 8, std::min<size_t>(8, id.size() - 8)) : 0;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.len1 == kEmpty) {
        if ((ids_.size() + 1) * 2 > slots_.size()) {
          Grow();
          return Intern(hash, id);
        }
        s = Slot{hash, w0, w1, static_cast<uint32_t>(id.size() + 1),
                 static_cast<uint32_t>(ids_.size())};
        ids_.push_back(id);
        return s.index;
      }
      if (s.hash == hash && s.len1 == id.size() + 1 && s.w0 == w0 && s.w1 == w1 &&
          (id.size() <= 16 || ids_[s.index] == id)) {
        return s.index;
      }
    }
  }
  const std::vector<std::string_view>& ids() const { return ids_; }

 private:
  static constexpr uint32_t kEmpty = 0;
  struct Slot {
    uint64_t hash;
    uint64_t w0, w1;  // the id's first 16 bytes
    uint32_t len1;    // the id's length + 1; kEmpty: a free slot
    uint32_t index;
  };
  void Grow() {
    HugeArray<Slot> old = std::move(slots_);
    slots_ = HugeArray<Slot>(old.size() * 2);
    mask_ = slots_.size() - 1;
    for (size_t k = 0; k < old.size(); ++k) {
      const Slot& s = old[k];
      if (s.len1 == kEmpty) continue;
      size_t i = s.hash & mask_;
      while (slots_[i].len1 != kEmpty) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }
  HugeArray<Slot> slots_;  // zeroed: every slot free
  size_t mask_ = 0;
  std::vector<std::string_view> ids_;
};

// Groups the records of partition `p` per member, members in member_id
// order, each member's records in the order they are applied:
//  1. intern the member ids (in log order), and sort the members by id;
//  2. move every record to a bucket of members that are neighbours in id
//     order (buckets of ~8 MB), giving each part's record blocks back once
//     it is read;
//  3. place each bucket's records in the member's range of the final
//     array, then order each member's records.
// The records (40 bytes) move twice, in sequence or within a bucket; their
// strings stay in the parts' arenas, where the readers wrote them, and the
// scoring reads them only when a record needs them (ScoreMember).
void BatchJob::Impl::Group(int p, Partition* out) {
  PhaseTimer timer;
  size_t total = 0;
  for (const auto& part : parts_) total += part->recs[p].size();
  MemberTable table(std::max<size_t>(64, total / 8));
  std::vector<uint32_t> member_of;  // per record, in log order
  member_of.reserve(total);
  std::vector<uint32_t> counts;
  // The ids are hashed 16 records ahead, so that the table's slot can be
  // asked for before it is needed.
  constexpr size_t kAhead = 16;
  std::string_view ring_id[kAhead];
  uint64_t ring_hash[kAhead];
  for (const auto& part : parts_) {
    size_t i = 0;
    auto intern = [&](size_t slot) {
      const uint32_t m = table.Intern(ring_hash[slot], ring_id[slot]);
      if (m == counts.size()) counts.push_back(0);
      member_of.push_back(m);
      ++counts[m];
    };
    part->recs[p].ForEach([&](const EventRec& rec) {
      const size_t slot = i % kAhead;
      if (i >= kAhead) intern(slot);
      GetString(rec.blob, &ring_id[slot]);
      ring_hash[slot] = StableHash(ring_id[slot]);
      table.Prefetch(ring_hash[slot]);
      ++i;
    });
    for (size_t k = i < kAhead ? 0 : i - kAhead; k < i; ++k) intern(k % kAhead);
  }
  const std::vector<std::string_view>& ids = table.ids();
  const size_t num_members = ids.size();
  // Members by id: by the first 8 bytes, then (rarely) the rest.
  struct ByPrefix {
    uint64_t prefix;
    uint32_t m;
  };
  std::vector<ByPrefix> by_id(num_members);
  for (uint32_t m = 0; m < num_members; ++m) by_id[m] = {Prefix8(ids[m]), m};
  std::sort(by_id.begin(), by_id.end(), [&](const ByPrefix& a, const ByPrefix& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return ids[a.m] < ids[b.m];
  });
  std::vector<uint32_t> rank(num_members);
  for (uint32_t r = 0; r < num_members; ++r) rank[by_id[r].m] = r;
  // The members, their ids copied side by side in id order (the merge of
  // the partitions and the scoring read them in that order; where the
  // readers wrote them they are scattered over the whole log). Their
  // records get a place when their bucket is placed (step 3).
  {
    size_t id_bytes = 0;
    for (uint32_t m = 0; m < num_members; ++m) id_bytes += ids[m].size();
    out->id_bytes.reset(new char[std::max<size_t>(id_bytes, 1)]);
    out->id_size = id_bytes;
    out->members.resize(num_members);
    char* at = out->id_bytes.get();
    for (uint32_t r = 0; r < num_members; ++r) {
      const std::string_view id = ids[by_id[r].m];
      if (!id.empty()) std::memcpy(at, id.data(), id.size());
      out->members[r] =
          MemberSpan{absl::string_view(at, id.size()), nullptr, counts[by_id[r].m]};
      at += id.size();
    }
  }
  constexpr uint64_t kBucketBytes = 8 << 20;
  std::vector<uint32_t> bucket_of(num_members);  // by rank
  std::vector<uint32_t> bucket_first;            // first rank of each bucket
  {
    uint64_t in_bucket = 0;
    for (uint32_t r = 0; r < num_members; ++r) {
      const uint64_t b = counts[by_id[r].m] * sizeof(EventRec);
      if (bucket_first.empty() || in_bucket + b > kBucketBytes) {
        bucket_first.push_back(r);
        in_bucket = 0;
      }
      in_bucket += b;
      bucket_of[r] = static_cast<uint32_t>(bucket_first.size() - 1);
    }
  }
  by_id = {};
  counts = {};
  timer.Mark("g.intern");

  // 2. Into buckets, in log order.
  struct Placed {
    EventRec rec;
    uint32_t rank;
  };
  const size_t num_buckets = bucket_first.size();
  std::vector<BlockList<Placed>> buckets;
  buckets.reserve(num_buckets);
  for (size_t b = 0; b < num_buckets; ++b) buckets.emplace_back(&pool_);
  size_t k = 0;
  for (const auto& part : parts_) {
    part->recs[p].ForEach([&](const EventRec& rec) {
      const uint32_t r = rank[member_of[k++]];
      buckets[bucket_of[r]].push_back(Placed{rec, r});
    });
    part->recs[p].Release();
  }
  member_of = {};
  rank = {};
  bucket_of = {};
  timer.Mark("g.buckets");

  // 3. Each bucket's records to their members' places. A bucket's members
  // get their places in pool blocks just before it is placed, so that the
  // blocks the previous bucket gave back are used again: the records take
  // fresh memory for about one bucket, not for a second copy of the log.
  out->recs = Arena(&pool_);
  out->num_recs = total;
  {
    std::vector<EventRec*> fill(num_members);
    for (size_t b = 0; b < num_buckets; ++b) {
      const uint32_t last = b + 1 < num_buckets ? bucket_first[b + 1]
                                                : static_cast<uint32_t>(num_members);
      for (uint32_t r = bucket_first[b]; r < last; ++r) {
        MemberSpan& m = out->members[r];
        m.recs = reinterpret_cast<EventRec*>(out->recs.Alloc(m.count * sizeof(EventRec)));
        fill[r] = m.recs;
      }
      buckets[b].ForEach([&](const Placed& x) { *fill[x.rank]++ = x.rec; });
      buckets[b].Release();
    }
  }
  // Each member's records in the order they are applied.
  if (options_.order == Order::kTime) {
    auto before = [](const EventRec& a, const EventRec& b) {
      const bool a_bad = (a.flags & kBad) != 0, b_bad = (b.flags & kBad) != 0;
      if (a_bad != b_bad) return a_bad;  // rejected while reading: first
      if (a_bad) return false;           // bad rows keep log order
      return a.time < b.time;
    };
    for (const MemberSpan& m : out->members) {
      EventRec* first = m.recs;
      EventRec* last = m.recs + m.count;
      if (last - first <= 32) {
        for (EventRec* i = first + 1; i < last; ++i) {  // insertion sort: stable
          if (!before(*i, *(i - 1))) continue;
          const EventRec x = *i;
          EventRec* j = i;
          for (; j > first && before(x, *(j - 1)); --j) *j = *(j - 1);
          *j = x;
        }
      } else {
        std::stable_sort(first, last, before);
      }
    }
  }
  timer.Mark("g.place");
}

void BatchJob::Impl::ScoreMember(const MemberSpan& m, Scorer* scorer,
                                 ChangeSink* sink, ScoreVisitor* visitor,
                                 std::string* members_text, StoreStats* stats) {
  const std::string_view member_id(m.id.data(), m.id.size());
  internal::Engine* engine = &scorer->engine;
  if (visitor != nullptr) {
    if (!visitor->Wants(member_id)) return;
    visitor->BeginMember(member_id);
    engine->set_tracer(visitor->tracer());
  }
  // The member's state once its first event is accepted (null before):
  // the scorer's, reset.
  internal::MemberState* state = nullptr;
  std::vector<KeyValue>& pairs = scorer->pairs;
  auto reject = [&](const EventRec& rec, std::string_view event_id,
                    RejectReason reason) {
    ++stats->rejected[static_cast<int>(reason)];
    Change c;
    c.kind = ChangeKind::kRejected;
    c.member_id = member_id;
    c.has_time = (rec.flags & kHasTime) != 0;
    c.time = c.has_time ? rec.time : 0;
    c.event_id = event_id;
    c.reason = reason;
    sink->OnChange(c);
  };
  // The strings of a record are read only when needed: for a rejection (its
  // event id), for a visitor (everything), or when the model reads them.
  const bool all_strings = visitor != nullptr || reads_group_or_channel_;
  auto event_id_of = [](const EventRec& rec) {
    std::string_view id;
    GetString(GetString(rec.blob, &id), &id);
    return id;
  };
  for (uint32_t k = 0; k < m.count; ++k) {
    const EventRec& rec = m.recs[k];
    // A record's strings are read a few records ahead when they will be:
    // it has pairs, everything is read, or it will be rejected as a
    // duplicate of the record before it (an exported row sent twice sorts
    // next to itself), whose event_id the rejection names.
    if (k + 4 < m.count) {
      const EventRec& ahead = m.recs[k + 4];
      if (all_strings || (ahead.flags & kPairs) || ahead.id_hash == m.recs[k + 3].id_hash) {
        __builtin_prefetch(ahead.blob);
      }
    }
    if (rec.flags & kBad) {
      reject(rec, event_id_of(rec), RejectReason::kInvalid);
      continue;
    }
    // A non-finite value goes to the checks below, which reject it as
    // invalid (before after_as_of).
    if (std::isfinite(rec.value) && has_as_of_ && rec.time > as_of_) {
      reject(rec, event_id_of(rec), RejectReason::kAfterAsOf);
      continue;
    }
    Event e;
    e.member_id = member_id;
    e.has_time = (rec.flags & kHasTime) != 0;
    e.time = rec.time;
    e.value = rec.value;
    e.type = types_.name(rec.type);
    if (all_strings || (rec.flags & kPairs)) {
      std::string_view ignored;
      const uint8_t* p = GetString(rec.blob, &ignored);
      p = GetString(p, &e.event_id);
      p = GetString(p, &e.account_id);
      p = GetString(p, &e.group_id);
      p = GetString(p, &e.channel);
      pairs.clear();
      uint64_t n_attrs, n_profile;
      p = GetPairs(p, &pairs, &n_attrs);
      GetPairs(p, &pairs, &n_profile);
      e.attrs = absl::MakeConstSpan(pairs.data(), n_attrs);
      e.profile = absl::MakeConstSpan(pairs.data() + n_attrs, n_profile);
    }
    if (internal::InvalidReason(e) != nullptr) {
      reject(rec, event_id_of(rec), RejectReason::kInvalid);
      continue;
    }
    const uint64_t id_hash = rec.id_hash;
    if (auto r = engine->Check(state, e, id_hash)) {
      reject(rec, event_id_of(rec), *r);
      continue;
    }
    const bool is_new = state == nullptr;
    if (is_new) {
      if (scorer->state == nullptr) {
        scorer->state = engine->Create(member_id, e);
      } else {
        engine->Reset(scorer->state.get(), member_id, e);
      }
      state = scorer->state.get();
      // At most one dedup id per record left.
      state->dedup.Reserve(m.count - k);
      ++stats->members;
    }
    engine->Apply(state, e, *dispatch_[rec.type], is_new, sink, stats, id_hash);
  }
  MemberView& view = scorer->view;
  if (visitor != nullptr) {
    engine->set_tracer(nullptr);
    if (state != nullptr && has_as_of_) {
      engine->Advance(state, as_of_, sink, stats);
      engine->Read(*state, as_of_, &view);
      visitor->EndMember(member_id, &view);
    } else {
      visitor->EndMember(member_id, nullptr);
    }
    return;
  }
  if (state != nullptr && has_as_of_) {
    engine->Advance(state, as_of_, sink, stats);
    engine->Read(*state, as_of_, &view);
    if (options_.members_format == MembersFormat::kCsv) {
      io::AppendMemberCsvLine(members_text, *model_, view);
    } else {
      scorer->json.AppendMemberLine(members_text, view);
    }
  }
}

std::vector<MemberRef> BatchJob::Impl::Prepare(BatchSummary* summary,
                                               PhaseTimer* timer) {
  has_as_of_ = options_.as_of.has_value() || has_max_time_;
  as_of_ = options_.as_of.has_value() ? *options_.as_of : max_time_;
  summary->has_as_of = has_as_of_;
  summary->as_of = as_of_;

  // Event types -> dispatch, once.
  const internal::CompiledModel& cm = model_->compiled();
  built_dispatch_.reserve(types_.size());
  for (uint32_t t = 0; t < types_.size(); ++t) {
    const std::string& name = types_.name(t);
    auto it = cm.dispatch_by_type.find(name);
    if (it != cm.dispatch_by_type.end()) {
      dispatch_.push_back(&it->second);
    } else {
      built_dispatch_.push_back(cm.BuildDispatch(name));
      dispatch_.push_back(&built_dispatch_.back());
    }
  }

  // Group each partition.
  grouped_.resize(partitions_);
  ParallelFor(options_.threads, partitions_, [&](int p) { Group(p, &grouped_[p]); });
  timer->Mark("group");

  // Every member in member_id order.
  std::vector<MemberRef> all;
  {
    size_t n = 0;
    for (const Partition& g : grouped_) n += g.members.size();
    all.reserve(n);
    if (partitions_ == 1) {
      for (uint32_t i = 0; i < grouped_[0].members.size(); ++i) all.push_back({0, i});
    } else {
      auto greater = [&](const MemberRef& a, const MemberRef& b) {
        return grouped_[a.partition].members[a.index].id >
               grouped_[b.partition].members[b.index].id;
      };
      std::priority_queue<MemberRef, std::vector<MemberRef>, decltype(greater)> heads(
          greater);
      for (uint32_t p = 0; p < grouped_.size(); ++p) {
        if (!grouped_[p].members.empty()) heads.push({p, 0});
      }
      while (!heads.empty()) {
        MemberRef r = heads.top();
        heads.pop();
        all.push_back(r);
        if (r.index + 1 < grouped_[r.partition].members.size()) {
          heads.push({r.partition, r.index + 1});
        }
      }
    }
  }
  members_ = static_cast<int64_t>(all.size());
  timer->Mark("merge");
  if (options_.progress != nullptr) options_.progress->StartScoring(members_);
  return all;
}

void BatchJob::Impl::SumStats(const std::vector<StoreStats>& stats,
                              BatchSummary* summary) {
  StoreStats& total = summary->stats;
  total = StoreStats();
  for (const StoreStats& s : stats) {
    total.events_applied += s.events_applied;
    for (int r = 0; r < kNumRejectReasons; ++r) total.rejected[r] += s.rejected[r];
    total.members += s.members;
    total.flags_raised += s.flags_raised;
  }
}

absl::Status BatchJob::Impl::Visit(const std::vector<ScoreVisitor*>& visitors,
                                   BatchSummary* summary) {
  if (visitors.size() != static_cast<size_t>(options_.threads)) {
    return absl::InvalidArgumentError("one visitor per thread is needed");
  }
  PhaseTimer timer;
  const std::vector<MemberRef> all = Prepare(summary, &timer);
  const internal::CompiledModel& cm = model_->compiled();
  constexpr size_t kBlock = 1024;
  const size_t num_blocks = (all.size() + kBlock - 1) / kBlock;
  std::vector<StoreStats> stats(visitors.size());
  std::atomic<size_t> next{0};
  ParallelFor(options_.threads, options_.threads, [&](int t) {
    Scorer scorer(cm, *model_);
    for (;;) {
      const size_t b = next.fetch_add(1);
      if (b >= num_blocks) break;
      const size_t end = std::min(all.size(), (b + 1) * kBlock);
      for (size_t i = b * kBlock; i < end; ++i) {
        const Partition& g = grouped_[all[i].partition];
        ScoreMember(g.members[all[i].index], &scorer, visitors[t], visitors[t],
                    nullptr, &stats[t]);
      }
      if (options_.progress != nullptr) {
        options_.progress->AddMembers(static_cast<int64_t>(end - b * kBlock));
      }
    }
  });
  timer.Mark("score");
  SumStats(stats, summary);
  return absl::OkStatus();
}

absl::Status BatchJob::Impl::Score(std::ostream* members_out,
                                   std::ostream* changes_out,
                                   BatchSummary* summary) {
  PhaseTimer timer;
  const std::vector<MemberRef> all = Prepare(summary, &timer);
  const internal::CompiledModel& cm = model_->compiled();

  if (options_.members_format == MembersFormat::kCsv) {
    std::string header;
    io::AppendMemberCsvHeader(&header, *model_);
    members_out->write(header.data(), header.size());
  }

  // Score blocks of members on every thread; write them in order.
  constexpr size_t kBlock = 1024;
  const size_t num_blocks = (all.size() + kBlock - 1) / kBlock;
  const int threads = static_cast<int>(
      std::min<size_t>(options_.threads, std::max<size_t>(num_blocks, 1)));
  const size_t window = 4 * static_cast<size_t>(threads);
  struct Slot {
    std::string members;
    std::string changes;
    bool ready = false;
  };
  std::vector<Slot> slots(window);
  std::vector<StoreStats> stats(threads);
  auto score_block = [&](size_t b, Scorer* scorer, TextSink* sink,
                         Slot* slot, StoreStats* st) {
    const size_t end = std::min(all.size(), (b + 1) * kBlock);
    for (size_t i = b * kBlock; i < end; ++i) {
      const Partition& g = grouped_[all[i].partition];
      sink->set_out(&slot->changes);
      ScoreMember(g.members[all[i].index], scorer, sink, nullptr,
                  &slot->members, st);
    }
    if (options_.progress != nullptr) {
      options_.progress->AddMembers(static_cast<int64_t>(end - b * kBlock));
    }
  };
  auto write_slot = [&](Slot* slot) {
    members_out->write(slot->members.data(), slot->members.size());
    changes_out->write(slot->changes.data(), slot->changes.size());
    slot->members.clear();
    slot->changes.clear();
  };

  if (threads <= 1) {
    Scorer scorer(cm, *model_);
    TextSink sink(model_.get());
    for (size_t b = 0; b < num_blocks; ++b) {
      score_block(b, &scorer, &sink, &slots[0], &stats[0]);
      write_slot(&slots[0]);
    }
  } else {
    std::mutex mu;
    std::condition_variable cv;
    size_t written = 0;
    std::atomic<size_t> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        Scorer scorer(cm, *model_);
        TextSink sink(model_.get());
        for (;;) {
          const size_t b = next.fetch_add(1);
          if (b >= num_blocks) break;
          Slot* slot = &slots[b % window];
          {
            std::unique_lock<std::mutex> lock(mu);
            cv.wait(lock, [&] { return b < written + window; });
          }
          score_block(b, &scorer, &sink, slot, &stats[t]);
          {
            std::lock_guard<std::mutex> lock(mu);
            slot->ready = true;
          }
          cv.notify_all();
        }
      });
    }
    for (size_t b = 0; b < num_blocks; ++b) {
      Slot* slot = &slots[b % window];
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return slot->ready; });
      }
      write_slot(slot);
      {
        std::lock_guard<std::mutex> lock(mu);
        slot->ready = false;
        ++written;
      }
      cv.notify_all();
    }
    for (std::thread& t : pool) t.join();
  }

  timer.Mark("score");
  SumStats(stats, summary);
  members_out->flush();
  changes_out->flush();
  if (!*members_out || !*changes_out) {
    return absl::DataLossError("writing the output failed");
  }
  return absl::OkStatus();
}

MemoryUse BatchJob::Impl::memory_use() const {
  MemoryUse m;
  for (const auto& part : parts_) {
    for (const auto& r : part->recs) m.events += static_cast<int64_t>(r.size());
    for (const auto& a : part->arenas) m.arena_bytes += a.used();
  }
  m.record_bytes = m.events * static_cast<int64_t>(sizeof(EventRec));
  m.members = members_;
  for (const Partition& g : grouped_) {
    m.events += static_cast<int64_t>(g.num_recs);
    m.record_bytes += g.recs.used();
    m.group_bytes += static_cast<int64_t>(g.members.capacity() * sizeof(MemberSpan) +
                                          g.id_size);
  }
  m.pool_bytes = pool_.mapped_bytes();
  return m;
}

// ---------------------------------------------------------------------------

BatchJob::BatchJob(std::shared_ptr<const Model> model, BatchOptions options)
    : impl_(std::make_unique<Impl>(std::move(model), options)) {}

BatchJob::~BatchJob() = default;

absl::Status BatchJob::ReadFile(const std::string& path, io::LogFormat format,
                                std::ostream* diag) {
  auto in = io::InputBytes::Open(path, impl_->progress_bytes());
  if (!in.ok()) return in.status();
  return impl_->ReadInput(in->get(), path, format, diag, &summary_,
                          &strict_failure_);
}

absl::Status BatchJob::ReadBytes(std::string bytes, std::string name,
                                 io::LogFormat format, std::ostream* diag) {
  auto in = io::InputBytes::FromString(std::move(bytes));
  if (!in.ok()) return in.status();
  return impl_->ReadInput(in->get(), name, format, diag, &summary_,
                          &strict_failure_);
}

absl::Status BatchJob::Read(io::EventSource* source, std::ostream* diag) {
  return impl_->ReadStream(source, diag, &summary_, &strict_failure_);
}

absl::Status BatchJob::Score(std::ostream* members_out,
                             std::ostream* changes_out) {
  return impl_->Score(members_out, changes_out, &summary_);
}

absl::Status BatchJob::Score(const std::vector<ScoreVisitor*>& visitors) {
  return impl_->Visit(visitors, &summary_);
}

MemoryUse BatchJob::memory_use() const { return impl_->memory_use(); }

std::string BatchJob::SummaryText() const {
  const StoreStats& s = summary_.stats;
  int64_t rejected = 0;
  for (int64_t n : s.rejected) rejected += n;
  std::string out = absl::StrCat(summary_.rows_read, " rows read, ",
                                 s.events_applied, " events applied, ",
                                 rejected, " rejected (");
  for (int r = 0; r < kNumRejectReasons; ++r) {
    if (r > 0) out += ", ";
    absl::StrAppend(&out, AsAbsl(RejectReasonName(static_cast<RejectReason>(r))),
                    " ", s.rejected[r]);
  }
  absl::StrAppend(&out, "), ", s.members, " members, ", s.flags_raised,
                  " flags raised");
  if (summary_.has_as_of) {
    absl::StrAppend(&out, ", as of ", FormatTime(summary_.as_of), " (",
                    summary_.as_of, ")");
  }
  return out;
}

}  // namespace leadscore::batch
