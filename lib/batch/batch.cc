// The batch job: read (parallel parts, each record to the bucket of its
// member_id) -> group and score bucket by bucket (over threads) -> write in
// order.
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
#include <limits>
#include <mutex>
#include <thread>
#include <utility>

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "lib/base/hash.h"
#include "lib/base/search.h"
#include "lib/base/strings.h"
#include "lib/batch/bucket_map.h"
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
constexpr uint8_t kBad = 2;        // rejected while reading (invalid)
constexpr uint8_t kPairs = 4;      // has profile pairs or attrs a condition reads
constexpr uint8_t kExtras = 8;     // the blob has account_id, group_id, channel, pairs
constexpr uint8_t kValue = 16;     // the blob ends with the value (not +0)
constexpr uint8_t kNonFinite = 32;  // the value is NaN or infinite

// One row of the log, 32 bytes. Its strings are in a blob (see
// PartBuilder::Add): member_id, event_id, then (kExtras) account_id,
// group_id, channel, attrs and profile, then (kValue) the value's 8 bytes.
// The blob stays where the reader wrote it; the scoring reads it only for
// what the record alone does not say (ScoreMember).
struct EventRec {
  int64_t time;
  uint64_t id_hash;  // StableHash(event_id), Engine::EventIdHash
  const uint8_t* blob;
  uint32_t type;  // TypeTable id
  uint8_t flags;
};
static_assert(sizeof(EventRec) == 32, "EventRec should stay 32 bytes");

// Memory for records and strings comes in 64 KB blocks from a pool of the
// job: blocks given back (the old record lists of Rebucket) are used
// again, so that the job's resident memory is about one copy of the log
// however its records move. Blocks are mapped directly (not malloc'd).
// Up to 32 MB of free blocks stay resident, the ones given back last, which
// are handed out first; older free blocks are given back to the system (and
// handed out only when no resident one is left, since the system has to
// fault them in again).
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
  // Gives every slab's memory back to the system on up to `threads`
  // threads at once (the pages are freed by the caller's threads in
  // parallel, where munmap alone would free them one slab at a time under
  // the address space lock). Only when nothing uses the pool any more.
  void ReleaseAll(int threads) {
    std::lock_guard<std::mutex> lock(mu_);
    give_back_ = false;
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; (i = next.fetch_add(1)) < mapped_.size();) {
        madvise(mapped_[i], kSlab, MADV_DONTNEED);
      }
    };
    std::vector<std::thread> helpers;
    for (int t = 1; t < threads && static_cast<size_t>(t) < mapped_.size(); ++t) {
      helpers.emplace_back(work);
    }
    work();
    for (std::thread& t : helpers) t.join();
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
  BlockList(BlockList&& o) noexcept { *this = std::move(o); }
  BlockList& operator=(BlockList&& o) noexcept {
    Release();
    pool_ = o.pool_;
    blocks_ = std::move(o.blocks_);
    size_ = o.size_;
    next_ = o.next_;
    end_ = o.end_;
    o.blocks_.clear();
    o.size_ = 0;
    o.next_ = o.end_ = nullptr;
    return *this;
  }
  ~BlockList() { Release(); }

  void push_back(const T& v) {
    if (next_ == end_) {
      blocks_.push_back(pool_->Get());
      next_ = reinterpret_cast<T*>(blocks_.back());
      end_ = next_ + kPerBlock;
    }
    *next_++ = v;
    ++size_;
  }
  size_t size() const { return size_; }
  const T& at(size_t i) const {
    return reinterpret_cast<const T*>(blocks_[i / kPerBlock])[i % kPerBlock];
  }
  // Calls fn(value) for values [begin, end), in order.
  template <typename Fn>
  void ForRange(size_t begin, size_t end, Fn fn) const {
    ForRuns(begin, end, [&](const T* v, size_t n) {
      for (size_t i = 0; i < n; ++i) fn(v[i]);
    });
  }
  // Calls fn(values, n) for the runs of values [begin, end) that are side by
  // side (one per block), in order.
  template <typename Fn>
  void ForRuns(size_t begin, size_t end, Fn fn) const {
    while (begin < end) {
      const size_t off = begin % kPerBlock;
      const size_t n = std::min(end - begin, kPerBlock - off);
      fn(reinterpret_cast<const T*>(blocks_[begin / kPerBlock]) + off, n);
      begin += n;
    }
  }
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
    next_ = end_ = nullptr;
  }

 private:
  BlockPool* pool_ = nullptr;
  std::vector<uint8_t*> blocks_;
  size_t size_ = 0;
  T* next_ = nullptr;  // where the next value goes, in the last block
  T* end_ = nullptr;   // the end of the last block
};

inline size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

LEADSCORE_ALWAYS_INLINE uint8_t* PutVarint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

LEADSCORE_ALWAYS_INLINE uint8_t* PutString(uint8_t* p, std::string_view s) {
  p = PutVarint(p, s.size());
  CopyBytes(p, s.data(), s.size());
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

inline size_t PairsSize(const std::vector<KeyValue>& pairs) {
  if (pairs.empty()) return 1;
  size_t n = VarintSize(pairs.size());
  for (const KeyValue& kv : pairs) {
    n += VarintSize(kv.key.size()) + kv.key.size() + VarintSize(kv.value.size()) +
         kv.value.size();
  }
  return n;
}

inline uint8_t* PutPairs(uint8_t* p, const std::vector<KeyValue>& pairs) {
  if (pairs.empty()) {
    *p = 0;
    return p + 1;
  }
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

// What one reading thread wrote: per bucket, its records (in the order it
// read them) and their strings.
struct ThreadStore {
  std::vector<BlockList<EventRec>> recs;
  std::vector<Arena> strings;

  void Reset(size_t buckets, BlockPool* pool) {
    recs.clear();
    strings.clear();
    for (size_t b = 0; b < buckets; ++b) {
      recs.emplace_back(pool);
      strings.emplace_back(pool);
    }
  }
};

// Records [begin, end) of one thread's list of a bucket.
struct RecRange {
  uint32_t thread = 0;
  size_t begin = 0, end = 0;
};

// The records read from one part of an input.
struct Part {
  int file = 0;
  int64_t line_base = 0;  // line (CSV, JSON Lines) or record index of line 0
  int64_t rows = 0;
  // Per bucket: where its records are, in log order.
  std::vector<RecRange> ranges;
  std::vector<BadRecord> bad;
  std::vector<std::pair<std::string, int64_t>> unknown_fields;  // first line each
  bool has_max_time = false;
  int64_t max_time = 0;

  void Reset() {
    rows = 0;
    ranges.clear();
    bad.clear();
    unknown_fields.clear();
    has_max_time = false;
    max_time = 0;
  }
};

// What every PartBuilder of a job shares.
struct BuildContext {
  TypeTable* types;
  const BucketMap* buckets;
  Progress* progress;
  // The event attributes some condition of the model reads: the others are
  // not kept (nothing else reads them).
  const std::vector<std::string>* read_attrs;
};

// Turns RawEvents into EventRecs of a Part, in the store of the thread
// reading it.
class PartBuilder final : public io::JsonlSink {
 public:
  PartBuilder(Part* part, uint32_t thread, ThreadStore* store, const BuildContext& ctx)
      : part_(part), store_(store), types_(ctx.types), buckets_(ctx.buckets),
        progress_(ctx.progress), read_attrs_(ctx.read_attrs) {
    part_->ranges.resize(store_->recs.size());
    for (size_t b = 0; b < part_->ranges.size(); ++b) {
      const size_t at = store_->recs[b].size();
      part_->ranges[b] = RecRange{thread, at, at};
    }
  }
  ~PartBuilder() override {
    Flush();
    for (size_t b = 0; b < part_->ranges.size(); ++b) {
      part_->ranges[b].end = store_->recs[b].size();
    }
  }

  void Add(const io::RawEvent& e) override {
    EventRec rec;
    rec.time = e.time;
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
    if (!attrs_.empty() || !e.profile.empty()) rec.flags |= kPairs;
    if (!std::isfinite(e.value)) rec.flags |= kNonFinite;
    Store(rec, e, &attrs_, &e.profile);
    if (!e.ok()) {
      part_->bad.push_back(BadRecord{e.line, e.offset, e.error_line, e.error});
    } else if (std::isfinite(e.value)) {
      if (!part_->has_max_time || e.time > part_->max_time) part_->max_time = e.time;
      part_->has_max_time = true;
    }
    if (progress_ != nullptr && ++unreported_ == 65536) Flush();
  }

  // A plain row (lib/io/raw_event.h): what Add does with it, without the
  // RawEvent and the pairs.
  void AddPlain(const io::PlainRow& r) override {
    EventRec rec;
    rec.time = r.time;
    rec.id_hash = StableHash(r.event_id);
    rec.flags = kHasTime;
    rec.type = TypeId(r.type);
    Store(rec, r, nullptr, nullptr);
    if (!part_->has_max_time || r.time > part_->max_time) part_->max_time = r.time;
    part_->has_max_time = true;
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
  // Writes the record's blob (EventRec: member_id, event_id, then with
  // kExtras account_id, group_id, channel, attrs and profile, then with
  // kValue the value) to its bucket's strings and the record to its list;
  // sets kExtras and kValue. The strings and the value are r's (its other
  // fields are not read); `attrs`, `profile`: null for none (a plain row:
  // the compiler drops their code).
  template <typename Row>  // io::RawEvent or io::PlainRow
  LEADSCORE_ALWAYS_INLINE void Store(EventRec rec, const Row& r,
                                     const std::vector<KeyValue>* attrs,
                                     const std::vector<KeyValue>* profile) {
    const bool extras = (rec.flags & kPairs) || !r.account_id.empty() || !r.group_id.empty() ||
                        !r.channel.empty();
    uint64_t value_bits;
    std::memcpy(&value_bits, &r.value, 8);
    const bool has_value = value_bits != 0;
    rec.flags |= (extras ? kExtras : 0) | (has_value ? kValue : 0);
    size_t size = VarintSize(r.member_id.size()) + r.member_id.size() +
                  VarintSize(r.event_id.size()) + r.event_id.size();
    if (extras) {
      size += VarintSize(r.account_id.size()) + r.account_id.size() +
              VarintSize(r.group_id.size()) + r.group_id.size() + VarintSize(r.channel.size()) +
              r.channel.size() + (attrs == nullptr ? 1 : PairsSize(*attrs)) +
              (profile == nullptr ? 1 : PairsSize(*profile));
    }
    if (has_value) size += 8;
    const uint32_t bucket = buckets_->Of(r.member_id);
    uint8_t* blob = store_->strings[bucket].Alloc(size);
    uint8_t* p = PutString(blob, r.member_id);
    p = PutString(p, r.event_id);
    if (extras) {
      p = PutString(p, r.account_id);
      p = PutString(p, r.group_id);
      p = PutString(p, r.channel);
      if (attrs == nullptr) {
        *p++ = 0;  // no pairs
      } else {
        p = PutPairs(p, *attrs);
      }
      if (profile == nullptr) {
        *p++ = 0;
      } else {
        p = PutPairs(p, *profile);
      }
    }
    if (has_value) std::memcpy(p, &value_bits, 8);
    rec.blob = blob;
    store_->recs[bucket].push_back(rec);
    ++part_->rows;
  }

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
  ThreadStore* store_;
  TypeTable* types_;
  const BucketMap* buckets_;
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

// The member ids of a sample of rows (for BucketMap::FromSample).
class SampleSink final : public io::JsonlSink {
 public:
  explicit SampleSink(std::vector<std::string>* ids) : ids_(ids) {}
  void Add(const io::RawEvent& e) override { ids_->emplace_back(e.member_id); }
  void UnknownField(std::string_view, int64_t) override {}

 private:
  std::vector<std::string>* ids_;
};

// A member of a bucket: its id and its records in order.
struct MemberSpan {
  absl::string_view id;
  EventRec* recs;
  uint32_t count;
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

// Runs fn(i, worker) for i in 0..n-1 on up to `threads` threads (the
// caller's among them, worker 0); `worker` tells the threads apart.
template <typename Fn>
void ParallelFor(int threads, int n, Fn fn) {
  if (threads <= 1 || n <= 1) {
    for (int i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  std::atomic<int> next{0};
  auto work = [&](int worker) {
    for (int i; (i = next.fetch_add(1)) < n;) fn(i, worker);
  };
  std::vector<std::thread> pool;
  const int extra = std::min(threads, n) - 1;
  pool.reserve(extra);
  for (int t = 0; t < extra; ++t) pool.emplace_back(work, t + 1);
  work(0);
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

// Orders one member's records as they are applied (--order time): the
// records rejected while reading first, in log order, then the others by
// time, ties in log order (a stable sort).
void SortForApply(EventRec* first, size_t n) {
  auto before = [](const EventRec& a, const EventRec& b) {
    const bool a_bad = (a.flags & kBad) != 0, b_bad = (b.flags & kBad) != 0;
    if (a_bad != b_bad) return a_bad;  // rejected while reading: first
    if (a_bad) return false;           // bad rows keep log order
    return a.time < b.time;
  };
  // Insertion sort (stable), which is linear on records that are nearly in
  // order already, as a log in arrival order mostly is; past a budget of
  // moves, std::stable_sort (what is done so far is a stable reordering, so
  // it gives the same result).
  EventRec* last = first + n;
  size_t budget = 4 * n + 64;
  for (EventRec* i = first + 1; i < last; ++i) {
    if (!before(*i, *(i - 1))) continue;
    const EventRec x = *i;
    EventRec* j = i;
    for (; j > first && before(x, *(j - 1)); --j) *j = *(j - 1);
    *j = x;
    const size_t moved = static_cast<size_t>(i - j);
    if (moved > budget) {
      std::stable_sort(first, last, before);
      return;
    }
    budget -= moved;
  }
}

// Groups the records of one bucket per member, on one thread, reusing its
// memory from bucket to bucket:
//  1. intern the member ids, in the order the records come (log order), in
//     a table of the bucket's own (it fits in the caches);
//  2. sort the bucket's members by id;
//  3. place each record in its member's range, members side by side in id
//     order, and order each member's records as they are applied.
class BucketGrouper {
 public:
  // Starts a bucket of about `rows` records.
  void Begin(size_t rows) {
    // A table for twice the members expected (at the previous bucket's
    // rows per member; it grows if there are more).
    const size_t expected = rows / rows_per_member_ + 16;
    size_t cap = 64;
    while (cap < 2 * expected) cap <<= 1;
    if (slots_.size() != cap) {
      slots_.assign(cap, Slot());
    } else {
      std::fill(slots_.begin(), slots_.end(), Slot());
    }
    mask_ = cap - 1;
    members_.clear();
    counts_.clear();
    runs_.clear();
    if (member_of_cap_ < rows) {
      member_of_cap_ = rows + rows / 4;
      member_of_.reset(new uint32_t[member_of_cap_]);
    }
    pending_ = 0;
  }

  // The bucket's records, in order, a run of them side by side at a time.
  // The ids are hashed a few records ahead, so that their table slots can
  // be asked for before they are needed.
  void AddRun(const EventRec* recs, size_t n) {
    runs_.push_back(Run{recs, n});
    for (size_t i = 0; i < n; ++i) {
      std::string_view id;
      GetString(recs[i].blob, &id);
      const uint64_t hash = StableHash(id);
      __builtin_prefetch(&slots_[hash & mask_]);
      Pending& p = ring_[pending_ % kAhead];
      if (pending_ >= kAhead) Intern(p);
      if (pending_ == member_of_cap_) GrowMemberOf();
      p = Pending{pending_, id, hash};
      ++pending_;
    }
  }

  // Steps 2 and 3; then spans() lists the members in id order.
  void Group(Order order) {
    for (size_t k = pending_ < kAhead ? 0 : pending_ - kAhead; k < pending_; ++k) {
      Intern(ring_[k % kAhead]);
    }
    const size_t rows = pending_;
    pending_ = 0;
    const size_t n = members_.size();
    if (n > 0) rows_per_member_ = std::max<size_t>(1, rows / n);
    order_.resize(n);
    for (uint32_t m = 0; m < n; ++m) order_[m] = ByPrefix{members_[m].prefix, m};
    std::sort(order_.begin(), order_.end(), [&](const ByPrefix& a, const ByPrefix& b) {
      if (a.prefix != b.prefix) return a.prefix < b.prefix;
      return members_[a.m].id < members_[b.m].id;
    });
    if (placed_cap_ < rows) {
      placed_cap_ = rows + rows / 4;
      placed_.reset(new EventRec[placed_cap_]);
    }
    spans_.resize(n);
    // counts_ becomes each member's next place.
    uint32_t at = 0;
    for (uint32_t r = 0; r < n; ++r) {
      const uint32_t m = order_[r].m;
      const std::string_view id = members_[m].id;
      spans_[r] = MemberSpan{absl::string_view(id.data(), id.size()), placed_.get() + at,
                             counts_[m]};
      const uint32_t count = counts_[m];
      counts_[m] = at;
      at += count;
    }
    const uint32_t* member_of = member_of_.get();
    for (const Run& run : runs_) {
      for (size_t i = 0; i < run.n; ++i) placed_[counts_[*member_of++]++] = run.recs[i];
    }
    if (order == Order::kTime) {
      for (const MemberSpan& s : spans_) SortForApply(s.recs, s.count);
    }
  }

  const std::vector<MemberSpan>& spans() const { return spans_; }
  size_t bytes() const {
    return slots_.capacity() * sizeof(Slot) + members_.capacity() * sizeof(Member) +
           counts_.capacity() * 4 + member_of_cap_ * 4 + runs_.capacity() * sizeof(Run) +
           placed_cap_ * sizeof(EventRec) + spans_.capacity() * sizeof(MemberSpan) +
           order_.capacity() * sizeof(ByPrefix);
  }

 private:
  // A slot knows its id's length and first 8 bytes: for an id of at most 8
  // bytes (most are) the lookup reads nothing else.
  struct Slot {
    uint64_t w0 = 0;      // LoadUpTo8 of the id's first bytes
    uint32_t len = 0;
    uint32_t index1 = 0;  // member index + 1; 0: a free slot
  };
  struct Member {
    std::string_view id;
    uint64_t prefix;  // the id's first 8 bytes, big-endian (w0 byte-swapped)
  };
  struct Pending {
    size_t ordinal;  // of the record in the bucket
    std::string_view id;
    uint64_t hash;
  };
  struct Run {
    const EventRec* recs;
    size_t n;
  };
  static constexpr size_t kAhead = 8;

  void Intern(const Pending& p) {
    const std::string_view id = p.id;
    const uint64_t w0 = LoadUpTo8(id.data(), std::min<size_t>(8, id.size()));
    const uint32_t len = static_cast<uint32_t>(id.size());
    for (size_t i = p.hash & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.index1 == 0) {
        if ((members_.size() + 1) * 2 > slots_.size()) {
          Grow();
          Intern(p);
          return;
        }
        const uint32_t m = static_cast<uint32_t>(members_.size());
        s = Slot{w0, len, m + 1};
        members_.push_back(Member{id, __builtin_bswap64(w0)});
        counts_.push_back(1);
        member_of_[p.ordinal] = m;
        return;
      }
      if (s.w0 == w0 && s.len == len &&
          (len <= 8 || SameBytes(members_[s.index1 - 1].id, id))) {
        ++counts_[s.index1 - 1];
        member_of_[p.ordinal] = s.index1 - 1;
        return;
      }
    }
  }
  void GrowMemberOf() {
    const size_t cap = 2 * member_of_cap_ + 16;
    std::unique_ptr<uint32_t[]> more(new uint32_t[cap]);
    std::copy(member_of_.get(), member_of_.get() + member_of_cap_, more.get());
    member_of_ = std::move(more);
    member_of_cap_ = cap;
  }
  void Grow() {
    slots_.assign(slots_.size() * 2, Slot());
    mask_ = slots_.size() - 1;
    for (uint32_t m = 0; m < members_.size(); ++m) {
      const std::string_view id = members_[m].id;
      size_t i = StableHash(id) & mask_;
      while (slots_[i].index1 != 0) i = (i + 1) & mask_;
      slots_[i] = Slot{LoadUpTo8(id.data(), std::min<size_t>(8, id.size())),
                       static_cast<uint32_t>(id.size()), m + 1};
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t rows_per_member_ = 2;
  Pending ring_[kAhead];
  size_t pending_ = 0;
  std::vector<Member> members_;   // in the order first seen
  std::vector<uint32_t> counts_;  // per member
  std::vector<Run> runs_;         // the bucket's records, in order
  std::unique_ptr<uint32_t[]> member_of_;  // per record, in that order
  size_t member_of_cap_ = 0;
  struct ByPrefix {
    uint64_t prefix;
    uint32_t m;
  };
  std::vector<ByPrefix> order_;   // members by id
  std::unique_ptr<EventRec[]> placed_;
  size_t placed_cap_ = 0;
  std::vector<MemberSpan> spans_;
};

}  // namespace

// ---------------------------------------------------------------------------

class BatchJob::Impl {
 public:
  Impl(std::shared_ptr<const Model> model, BatchOptions options)
      : model_(std::move(model)), options_(options) {
    options_.threads = std::clamp(options_.threads, 1, kMaxThreads);
    if (options_.part_bytes < 64) options_.part_bytes = 64;
    // A bucket of about 32k rows: its records, its members and their table
    // fit in the caches while it is grouped and scored.
    if (options_.bucket_rows < 1) options_.bucket_rows = 1;
    reads_group_or_channel_ = model_->compiled().reads_event_group_or_channel;
    reads_event_value_ = model_->compiled().reads_event_value;
  }
  // The pool is unmapped right after the stores give their blocks back:
  // giving them to the system one by one first is wasted work; freeing its
  // pages on every thread first is not (a third of the time to exit).
  ~Impl() { pool_.ReleaseAll(options_.threads); }

  struct FileInfo {
    std::string name;
    io::LogFormat format;
  };

  // `disk_bytes`: the input's size as stored (before inflating).
  absl::Status ReadInput(io::InputBytes* in, const std::string& name,
                         io::LogFormat format, int64_t disk_bytes,
                         std::ostream* diag, BatchSummary* summary,
                         bool* strict_failure);
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

  // The buckets, from a sample of the first input (`starts`: where its
  // parts begin); `scale`: about how many times that input the whole log is.
  void ChooseBuckets(std::string_view data, io::LogFormat format,
                     const io::CsvFile& csv, const io::JsonlFile& jsonl,
                     const std::vector<size_t>& starts, size_t data_end,
                     double scale);
  void SetBuckets(BucketMap map);
  void ParseTask(io::InputBytes* in, io::LogFormat format, const io::CsvFile& csv,
                 const io::JsonlFile& jsonl, Task* task, size_t begin, int worker);
  std::string BadMessage(const Part& part, const BadRecord& bad) const;
  void Emit(std::ostream* diag, const std::string& text);
  // The as-of time, event types to dispatch, and the buckets split again
  // when one is too large.
  void Prepare(BatchSummary* summary, PhaseTimer* timer);
  // Spreads every record over new buckets, when the sample the buckets came
  // from was poor (or there was none: a stream) and one is too large.
  void Rebucket();
  size_t BucketRows(size_t b) const;
  // Groups bucket `b` (BucketGrouper) and calls fn(span) for each of its
  // members, in id order.
  template <typename Fn>
  void ForEachMember(size_t b, BucketGrouper* grouper, Fn fn);
  void SumStats(const std::vector<StoreStats>& stats, BatchSummary* summary);
  // Scores one member; changes go to `sink`. The member read at the as-of
  // time goes to `members_text` or, when `visitor` is set, to the visitor.
  // What one scoring thread keeps from member to member: its engine, one
  // member state (reset for each member), one view and the event's pairs.
  struct Scorer {
    Scorer(const internal::CompiledModel& cm, const Model& model)
        : engine(cm), json(model) {}
    // The outputs show no ledger: kept only for flag reasons.
    void ForFiles(const internal::CompiledModel& cm) {
      engine.set_keep_ledger(!cm.flags.empty());
    }
    internal::Engine engine;
    io::JsonLineWriter json;
    std::unique_ptr<internal::MemberState> state;
    MemberView view;
    std::vector<KeyValue> pairs;
    BucketGrouper grouper;
  };
  void ScoreMember(const MemberSpan& m, Scorer* scorer, ChangeSink* sink,
                   ScoreVisitor* visitor, std::string* members_text,
                   StoreStats* stats);

  BuildContext build_context() {
    return BuildContext{&types_, &buckets_, options_.progress,
                        &model_->compiled().event_attrs};
  }

  std::shared_ptr<const Model> model_;
  BatchOptions options_;
  BlockPool pool_;  // first: the stores give their blocks back to it
  TypeTable types_;
  std::vector<FileInfo> files_;
  bool buckets_set_ = false;
  BucketMap buckets_;
  std::vector<ThreadStore> stores_;  // per reading thread
  // Strings of records spread again by Rebucket: several new buckets share
  // them, so they are kept to the end.
  std::vector<ThreadStore> kept_strings_;
  std::vector<std::unique_ptr<Part>> parts_;
  std::vector<const internal::Dispatch*> dispatch_;
  std::vector<internal::Dispatch> built_dispatch_;
  std::vector<std::string_view> type_names_;  // by TypeTable id
  bool has_max_time_ = false;
  int64_t max_time_ = 0;
  bool reads_group_or_channel_ = false;
  bool reads_event_value_ = false;
  bool has_as_of_ = false;
  int64_t as_of_ = 0;
  std::atomic<int64_t> members_{0};
  MemoryUse held_;  // what the stores held before scoring
  std::atomic<int64_t> group_bytes_{0};
};

void BatchJob::Impl::SetBuckets(BucketMap map) {
  buckets_ = std::move(map);
  buckets_set_ = true;
  stores_.resize(options_.threads);
  for (ThreadStore& s : stores_) s.Reset(buckets_.size(), &pool_);
}

void BatchJob::Impl::ChooseBuckets(std::string_view data, io::LogFormat format,
                                   const io::CsvFile& csv, const io::JsonlFile& jsonl,
                                   const std::vector<size_t>& starts, size_t data_end,
                                   double scale) {
  // About 8 KB at the start of up to 256 parts, spread over the input.
  constexpr size_t kSampleBytes = 8 << 10;
  constexpr size_t kSampleParts = 256;
  std::vector<std::string> ids;
  size_t sampled = 0;
  const size_t n = starts.size();
  const size_t step = std::max<size_t>(1, n / kSampleParts);
  for (size_t k = 0; k < n; k += step) {
    const size_t begin = starts[k];
    const size_t part_end = k + 1 < n ? starts[k + 1] : data_end;
    const size_t limit = std::min(part_end, begin + kSampleBytes);
    if (limit <= begin) continue;
    SampleSink sink(&ids);
    int64_t newlines = 0;
    size_t end = limit;
    switch (format) {
      case io::LogFormat::kCsv:
        end = csv.ParseRange(begin, limit, &sink, &newlines);
        break;
      case io::LogFormat::kJsonl:
        end = jsonl.ParseRange(begin, limit, &sink, &newlines);
        break;
      case io::LogFormat::kPb:
        io::ParsePbRange(data, begin, limit, &sink);
        break;
    }
    sampled += std::max(end, limit) - begin;
  }
  const size_t bytes = data_end - (starts.empty() ? data_end : starts[0]);
  double rows = sampled == 0 ? 0 : static_cast<double>(ids.size()) / sampled * bytes;
  rows *= std::max(1.0, scale);
  const size_t buckets = static_cast<size_t>(
      std::clamp(rows / options_.bucket_rows, 1.0, 4096.0));
  SetBuckets(BucketMap::FromSample(std::move(ids), buckets));
}

void BatchJob::Impl::ParseTask(io::InputBytes* in, io::LogFormat format,
                               const io::CsvFile& csv, const io::JsonlFile& jsonl,
                               Task* task, size_t begin, int worker) {
  const std::string_view data = in->data();
  task->part->Reset();
  PartBuilder builder(task->part.get(), static_cast<uint32_t>(worker), &stores_[worker],
                      build_context());
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
                                       io::LogFormat format, int64_t disk_bytes,
                                       std::ostream* diag, BatchSummary* summary,
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
  if (!buckets_set_) {
    const double scale =
        options_.log_bytes > 0 && disk_bytes > 0
            ? static_cast<double>(options_.log_bytes) / static_cast<double>(disk_bytes)
            : 1.0;
    ChooseBuckets(data, format, csv, jsonl, starts, data_end, scale);
  }
  std::vector<Task> tasks(starts.size());
  for (size_t k = 0; k < tasks.size(); ++k) {
    tasks[k].begin = starts[k];
    tasks[k].limit = k + 1 < starts.size() ? starts[k + 1] : data_end;
    tasks[k].part = std::make_unique<Part>();
  }

  // Parse the parts on every thread. The frontier checks each part in
  // order: a CSV part that did not start where the one before it ended is
  // read again from there (by the thread that found it, into its store:
  // the records of the first reading are left unused); then the bytes
  // before are given back.
  std::mutex mu;
  int reparsed = 0;
  size_t frontier = 0;
  size_t verified_end = tasks.empty() ? 0 : tasks[0].begin;
  size_t released = 0;
  auto finish = [&](size_t k, int worker) {
    std::lock_guard<std::mutex> lock(mu);
    tasks[k].done = true;
    while (frontier < tasks.size() && tasks[frontier].done) {
      Task& t = tasks[frontier];
      if (t.begin != verified_end) {
        ParseTask(in, format, csv, jsonl, &t, verified_end, worker);
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
  ParallelFor(options_.threads, static_cast<int>(tasks.size()), [&](int k, int worker) {
    ParseTask(in, format, csv, jsonl, &tasks[k], tasks[k].begin, worker);
    finish(static_cast<size_t>(k), worker);
  });
  timer.Mark("parse");
  if (std::getenv("LEADSCORE_TIMING") != nullptr) {
    std::fprintf(stderr, "timing: %zu parts, %d read again, %zu buckets\n", tasks.size(),
                 reparsed, buckets_.size());
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
    tail->file = file;
    tail->line_base = pb.num_records;
    {
      PartBuilder builder(tail.get(), 0, &stores_[0], build_context());
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
  // No sample to split by: one bucket, spread out before scoring when it
  // is large (Rebucket).
  if (!buckets_set_) SetBuckets(BucketMap());
  const int file = static_cast<int>(files_.size());
  files_.push_back(FileInfo{source->name(), io::LogFormat::kCsv});
  std::string text;
  for (const std::string& w : source->warnings()) absl::StrAppend(&text, w, "\n");
  Emit(diag, text);
  auto part = std::make_unique<Part>();
  part->file = file;
  part->line_base = 0;
  {
    PartBuilder builder(part.get(), 0, &stores_[0], build_context());
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

size_t BatchJob::Impl::BucketRows(size_t b) const {
  size_t n = 0;
  for (const auto& part : parts_) n += part->ranges[b].end - part->ranges[b].begin;
  return n;
}

void BatchJob::Impl::Rebucket() {
  const size_t old_buckets = buckets_.size();
  size_t total = 0, largest = 0;
  for (size_t b = 0; b < old_buckets; ++b) {
    const size_t n = BucketRows(b);
    total += n;
    largest = std::max(largest, n);
  }
  if (largest <= 8 * options_.bucket_rows) return;
  // A sample of the ids: about 64k records, every k-th of each part.
  const size_t every = std::max<size_t>(1, total / (64 << 10));
  std::vector<std::string> ids;
  for (const auto& part : parts_) {
    for (size_t b = 0; b < old_buckets; ++b) {
      const RecRange& r = part->ranges[b];
      for (size_t i = r.begin; i < r.end; i += every) {
        std::string_view id;
        GetString(stores_[r.thread].recs[b].at(i).blob, &id);
        ids.emplace_back(id);
      }
    }
  }
  BucketMap map = BucketMap::FromSample(
      std::move(ids), std::clamp<size_t>(total / options_.bucket_rows, 1, 4096));
  if (map.size() <= old_buckets) return;  // no better split (one member, one id key)
  // Every part's records to the new buckets, part by part on every thread
  // (a member's records stay in log order: they are all in one old bucket).
  std::vector<ThreadStore> old = std::move(stores_);
  std::vector<ThreadStore> fresh(options_.threads);
  for (ThreadStore& s : fresh) s.Reset(map.size(), &pool_);
  ParallelFor(options_.threads, static_cast<int>(parts_.size()), [&](int k, int worker) {
    Part& part = *parts_[k];
    ThreadStore& to = fresh[worker];
    std::vector<RecRange> ranges(map.size());
    for (size_t b = 0; b < map.size(); ++b) {
      const size_t at = to.recs[b].size();
      ranges[b] = RecRange{static_cast<uint32_t>(worker), at, at};
    }
    for (size_t b = 0; b < old_buckets; ++b) {
      const RecRange& r = part.ranges[b];
      old[r.thread].recs[b].ForRange(r.begin, r.end, [&](const EventRec& rec) {
        std::string_view id;
        GetString(rec.blob, &id);
        to.recs[map.Of(id)].push_back(rec);
      });
    }
    for (size_t b = 0; b < map.size(); ++b) ranges[b].end = to.recs[b].size();
    part.ranges = std::move(ranges);
  });
  for (ThreadStore& s : old) {
    s.recs.clear();  // gives the blocks back
    kept_strings_.push_back(std::move(s));
  }
  buckets_ = std::move(map);
  stores_ = std::move(fresh);
  for (ThreadStore& s : stores_) {
    s.strings.clear();
    s.strings.resize(buckets_.size());  // empty: the strings are in kept_strings_
  }
}

template <typename Fn>
void BatchJob::Impl::ForEachMember(size_t b, BucketGrouper* grouper, Fn fn) {
  grouper->Begin(BucketRows(b));
  for (const auto& part : parts_) {
    const RecRange& r = part->ranges[b];
    stores_[r.thread].recs[b].ForRuns(
        r.begin, r.end, [&](const EventRec* recs, size_t n) { grouper->AddRun(recs, n); });
  }
  grouper->Group(options_.order);
  const std::vector<MemberSpan>& spans = grouper->spans();
  for (size_t i = 0; i < spans.size(); ++i) {
    // The strings a record will need are fetched a few records ahead in
    // ScoreMember; here the next member's first records, and the id of the
    // member after it (in the blob of its first record, read long ago).
    if (i + 1 < spans.size()) __builtin_prefetch(spans[i + 1].recs);
    if (i + 2 < spans.size()) __builtin_prefetch(spans[i + 2].id.data());
    fn(spans[i]);
  }
  members_.fetch_add(static_cast<int64_t>(spans.size()), std::memory_order_relaxed);
  const int64_t bytes = static_cast<int64_t>(grouper->bytes());
  int64_t seen = group_bytes_.load();
  while (bytes > seen && !group_bytes_.compare_exchange_weak(seen, bytes)) {
  }
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
  // event id), for a visitor (everything), or when the model reads them;
  // its value when the model or a visitor reads it.
  const bool all_strings = visitor != nullptr || reads_group_or_channel_;
  const bool read_value = visitor != nullptr || reads_event_value_;
  auto event_id_of = [](const EventRec& rec) {
    std::string_view id;
    GetString(GetString(rec.blob, &id), &id);
    return id;
  };
  // The event handed to the engine: one for the member, its fields set
  // per record (the strings only when they are read, and cleared after).
  Event e;
  e.member_id = member_id;
  bool e_has_strings = false;
  for (uint32_t k = 0; k < m.count; ++k) {
    const EventRec& rec = m.recs[k];
    // A record's strings are read a few records ahead when they will be:
    // it has pairs, everything is read, or it will be rejected as a
    // duplicate of the record before it (an exported row sent twice sorts
    // next to itself), whose event_id the rejection names.
    if (k + 4 < m.count) {
      const EventRec& ahead = m.recs[k + 4];
      if (all_strings || (ahead.flags & kPairs) || (read_value && (ahead.flags & kValue)) ||
          ahead.id_hash == m.recs[k + 3].id_hash) {
        __builtin_prefetch(ahead.blob);
      }
    }
    if (rec.flags & kBad) {
      reject(rec, event_id_of(rec), RejectReason::kInvalid);
      continue;
    }
    // A non-finite value goes to the checks below, which reject it as
    // invalid (before after_as_of).
    if (!(rec.flags & kNonFinite) && has_as_of_ && rec.time > as_of_) {
      reject(rec, event_id_of(rec), RejectReason::kAfterAsOf);
      continue;
    }
    e.has_time = (rec.flags & kHasTime) != 0;
    e.time = rec.time;
    e.type = type_names_[rec.type];
    const bool strings = all_strings || (rec.flags & kPairs);
    if (strings || (read_value && (rec.flags & kValue))) {
      e_has_strings = true;
      std::string_view ignored;
      const uint8_t* p = GetString(rec.blob, &ignored);
      p = GetString(p, &e.event_id);
      pairs.clear();
      if (rec.flags & kExtras) {
        p = GetString(p, &e.account_id);
        p = GetString(p, &e.group_id);
        p = GetString(p, &e.channel);
        uint64_t n_attrs, n_profile;
        p = GetPairs(p, &pairs, &n_attrs);
        p = GetPairs(p, &pairs, &n_profile);
        e.attrs = absl::MakeConstSpan(pairs.data(), n_attrs);
        e.profile = absl::MakeConstSpan(pairs.data() + n_attrs, n_profile);
      } else {
        e.account_id = e.group_id = e.channel = {};
        e.attrs = e.profile = {};
      }
      if (rec.flags & kValue) {
        std::memcpy(&e.value, p, 8);
      } else {
        e.value = 0;
      }
    } else {
      if (e_has_strings) {
        e.event_id = e.account_id = e.group_id = e.channel = {};
        e.attrs = e.profile = {};
        e_has_strings = false;
      }
      // The value is not read: all that matters of it is whether it is
      // finite (InvalidReason).
      e.value = (rec.flags & kNonFinite) ? std::numeric_limits<double>::quiet_NaN() : 0;
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
    engine->Read(*state, as_of_, &view, /*ledger=*/false);  // the files show no ledger
    if (options_.members_format == MembersFormat::kCsv) {
      io::AppendMemberCsvLine(members_text, *model_, view);
    } else {
      scorer->json.AppendMemberLine(members_text, view);
    }
  }
}


void BatchJob::Impl::Prepare(BatchSummary* summary, PhaseTimer* timer) {
  has_as_of_ = options_.as_of.has_value() || has_max_time_;
  as_of_ = options_.as_of.has_value() ? *options_.as_of : max_time_;
  summary->has_as_of = has_as_of_;
  summary->as_of = as_of_;
  if (!buckets_set_) SetBuckets(BucketMap());  // nothing was read

  // Event types -> dispatch, once.
  const internal::CompiledModel& cm = model_->compiled();
  built_dispatch_.reserve(types_.size());
  for (uint32_t t = 0; t < types_.size(); ++t) {
    const std::string& name = types_.name(t);
    type_names_.push_back(name);
    auto it = cm.dispatch_by_type.find(name);
    if (it != cm.dispatch_by_type.end()) {
      dispatch_.push_back(&it->second);
    } else {
      built_dispatch_.push_back(cm.BuildDispatch(name));
      dispatch_.push_back(&built_dispatch_.back());
    }
  }
  Rebucket();
  timer->Mark("buckets");

  // What the stores hold (for memory_use()).
  held_ = MemoryUse();
  for (size_t b = 0; b < buckets_.size(); ++b) {
    held_.events += static_cast<int64_t>(BucketRows(b));
  }
  held_.record_bytes = held_.events * static_cast<int64_t>(sizeof(EventRec));
  for (const std::vector<ThreadStore>* stores : {&stores_, &kept_strings_}) {
    for (const ThreadStore& s : *stores) {
      for (const Arena& a : s.strings) held_.arena_bytes += a.used();
    }
  }
  if (options_.progress != nullptr) options_.progress->StartScoring(held_.events);
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
  Prepare(summary, &timer);
  const internal::CompiledModel& cm = model_->compiled();
  const size_t num_buckets = buckets_.size();
  std::vector<StoreStats> stats(visitors.size());
  // Every thread takes the next bucket: each visitor sees its members in
  // member_id order.
  std::atomic<size_t> next{0};
  ParallelFor(options_.threads, options_.threads, [&](int t, int) {
    Scorer scorer(cm, *model_);
    for (size_t b; (b = next.fetch_add(1)) < num_buckets;) {
      int64_t rows = 0;
      ForEachMember(b, &scorer.grouper, [&](const MemberSpan& m) {
        ScoreMember(m, &scorer, visitors[t], visitors[t], nullptr, &stats[t]);
        rows += m.count;
      });
      if (options_.progress != nullptr) options_.progress->AddScored(rows);
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
  Prepare(summary, &timer);
  const internal::CompiledModel& cm = model_->compiled();

  if (options_.members_format == MembersFormat::kCsv) {
    std::string header;
    io::AppendMemberCsvHeader(&header, *model_);
    members_out->write(header.data(), header.size());
  }

  // Group and score the buckets on every thread; write them in order. A
  // bucket's records and strings are not given back once it is scored: the
  // resident memory peaked when the log was read, and giving blocks to the
  // system one by one (a madvise call per 64 KB, 1,200 on 2M rows) cost
  // more than unmapping the pool whole at the end.
  const size_t num_buckets = buckets_.size();
  const int threads =
      static_cast<int>(std::min<size_t>(options_.threads, std::max<size_t>(num_buckets, 1)));
  const size_t window = 4 * static_cast<size_t>(threads);
  struct Slot {
    std::string members;
    std::string changes;
    bool ready = false;
  };
  std::vector<Slot> slots(window);
  std::vector<StoreStats> stats(threads);
  auto score_bucket = [&](size_t b, Scorer* scorer, TextSink* sink, Slot* slot,
                          StoreStats* st) {
    sink->set_out(&slot->changes);
    int64_t rows = 0;
    ForEachMember(b, &scorer->grouper, [&](const MemberSpan& m) {
      ScoreMember(m, scorer, sink, nullptr, &slot->members, st);
      rows += m.count;
    });
    if (options_.progress != nullptr) options_.progress->AddScored(rows);
  };
  auto write_slot = [&](Slot* slot) {
    members_out->write(slot->members.data(), slot->members.size());
    changes_out->write(slot->changes.data(), slot->changes.size());
    slot->members.clear();
    slot->changes.clear();
  };

  if (threads <= 1) {
    Scorer scorer(cm, *model_);
    scorer.ForFiles(cm);
    TextSink sink(model_.get());
    for (size_t b = 0; b < num_buckets; ++b) {
      score_bucket(b, &scorer, &sink, &slots[0], &stats[0]);
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
        scorer.ForFiles(cm);
        TextSink sink(model_.get());
        for (;;) {
          const size_t b = next.fetch_add(1);
          if (b >= num_buckets) break;
          Slot* slot = &slots[b % window];
          {
            std::unique_lock<std::mutex> lock(mu);
            cv.wait(lock, [&] { return b < written + window; });
          }
          score_bucket(b, &scorer, &sink, slot, &stats[t]);
          {
            std::lock_guard<std::mutex> lock(mu);
            slot->ready = true;
          }
          cv.notify_all();
        }
      });
    }
    for (size_t b = 0; b < num_buckets; ++b) {
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
  MemoryUse m = held_;
  if (m.events == 0) {  // not scored yet: what the stores hold
    for (const ThreadStore& s : stores_) {
      for (const auto& r : s.recs) m.events += static_cast<int64_t>(r.size());
      for (const auto& a : s.strings) m.arena_bytes += a.used();
    }
    m.record_bytes = m.events * static_cast<int64_t>(sizeof(EventRec));
  }
  m.members = members_.load();
  m.group_bytes = group_bytes_.load();
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
  struct stat st;
  const int64_t disk_bytes = stat(path.c_str(), &st) == 0 ? st.st_size : 0;
  return impl_->ReadInput(in->get(), path, format, disk_bytes, diag, &summary_,
                          &strict_failure_);
}

absl::Status BatchJob::ReadBytes(std::string bytes, std::string name,
                                 io::LogFormat format, std::ostream* diag) {
  const int64_t disk_bytes = static_cast<int64_t>(bytes.size());
  auto in = io::InputBytes::FromString(std::move(bytes));
  if (!in.ok()) return in.status();
  return impl_->ReadInput(in->get(), name, format, disk_bytes, diag, &summary_,
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
