// The event ids a member has applied (their StableHash), each with the latest
// time an event with that id was applied at: what "duplicate" is checked
// against (SEMANTICS.md section 3).
//
// Up to 8 ids, a plain list searched from end to end (as small as the sorted
// list this replaced). Beyond, an open-addressing table (linear probing, at
// most 3/4 full): finding or adding an id reads about one cache line however
// many ids the member has. The sorted list cost a binary search and, to add
// an id, moving half the list: in a log where the average event belongs to
// a member of 170 events, that was a seventh of the scoring.
#ifndef LEADSCORE_LIB_ENGINE_DEDUP_SET_H_
#define LEADSCORE_LIB_ENGINE_DEDUP_SET_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace leadscore::internal {

struct DedupEntry {
  uint64_t hash;  // StableHash(event_id)
  int64_t time;   // event time of the applied event
};

class DedupSet {
 public:
  size_t size() const { return size_; }
  // Bytes of memory held (for memory reports and tests).
  size_t capacity_bytes() const { return slots_.capacity() * sizeof(DedupEntry); }

  // The time kept for `hash`, or null.
  const int64_t* Find(uint64_t hash) const {
    if (hash == 0) return zero_ ? &zero_time_ : nullptr;
    if (!table_) {
      for (const DedupEntry& e : slots_) {
        if (e.hash == hash) return &e.time;
      }
      return nullptr;
    }
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const DedupEntry& e = slots_[i];
      if (e.hash == hash) return &e.time;
      if (e.hash == 0) return nullptr;
    }
  }

  // Keeps `hash` with the time max(time kept, `time`).
  void Keep(uint64_t hash, int64_t time) {
    oldest_ = std::min(oldest_, time);
    if (hash == 0) {
      if (!zero_) ++size_;
      zero_time_ = zero_ ? std::max(zero_time_, time) : time;
      zero_ = true;
      return;
    }
    if (!table_) {
      for (DedupEntry& e : slots_) {
        if (e.hash == hash) {
          e.time = std::max(e.time, time);
          return;
        }
      }
      if (slots_.size() < kListMax) {
        slots_.push_back(DedupEntry{hash, time});
        ++size_;
        return;
      }
      Rehash(SlotsFor(size_ + 1));
    } else if ((size_ + 1) * 4 > slots_.size() * 3) {
      Rehash(slots_.size() * 2);
    }
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      DedupEntry& e = slots_[i];
      if (e.hash == hash) {
        e.time = std::max(e.time, time);
        return;
      }
      if (e.hash == 0) {
        e = DedupEntry{hash, time};
        ++size_;
        return;
      }
    }
  }

  // Forgets every id kept with a time before `horizon`.
  void ForgetBefore(int64_t horizon) {
    if (oldest_ >= horizon) return;  // nothing is that old
    std::vector<DedupEntry> kept;
    kept.reserve(slots_.size());
    for (const DedupEntry& e : slots_) {
      if (e.hash != 0 && e.time >= horizon) kept.push_back(e);
    }
    const bool zero = zero_ && zero_time_ >= horizon;
    const int64_t zero_time = zero_time_;
    if (table_ && kept.size() > kListMax) {
      std::fill(slots_.begin(), slots_.end(), DedupEntry{0, 0});
      size_ = 0;
    } else {
      ToList();
    }
    zero_ = false;
    oldest_ = kNever;
    for (const DedupEntry& e : kept) Keep(e.hash, e.time);
    if (zero) Keep(0, zero_time);
  }

  // Room for `n` ids in all without growing on the way.
  void Reserve(size_t n) {
    if (n <= kListMax) {
      if (!table_) slots_.reserve(n);
    } else if (!table_ || n * 4 > slots_.size() * 3) {
      Rehash(SlotsFor(n));
    }
  }

  // Empty. The memory of a small set is kept (a batch scores one member
  // after another in one state); a large one's is given back, so that one
  // busy member does not make every later member clear a large table.
  void clear() {
    if (slots_.capacity() > kKeepSlots) std::vector<DedupEntry>().swap(slots_);
    ToList();
    zero_ = false;
    zero_time_ = 0;
    oldest_ = kNever;
  }

  // Every entry, by hash (exported state lists them in this order).
  std::vector<DedupEntry> Sorted() const {
    std::vector<DedupEntry> out;
    out.reserve(size_);
    if (zero_) out.push_back(DedupEntry{0, zero_time_});
    for (const DedupEntry& e : slots_) {
      if (e.hash != 0) out.push_back(e);
    }
    std::sort(out.begin(), out.end(),
              [](const DedupEntry& a, const DedupEntry& b) { return a.hash < b.hash; });
    return out;
  }

 private:
  static constexpr size_t kListMax = 8;     // ids in list form, at most
  static constexpr size_t kKeepSlots = 64;  // memory kept by clear(), at most
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

  // The table size that holds `n` ids at most 3/4 full.
  static size_t SlotsFor(size_t n) {
    size_t slots = 16;
    while (n * 4 > slots * 3) slots <<= 1;
    return slots;
  }
  // An empty list (keeping the memory).
  void ToList() {
    slots_.clear();
    table_ = false;
    size_ = 0;
  }
  // Every id into a table of `slots` (a power of two).
  void Rehash(size_t slots) {
    std::vector<DedupEntry> old(slots, DedupEntry{0, 0});
    old.swap(slots_);
    table_ = true;
    const size_t mask = slots_.size() - 1;
    for (const DedupEntry& e : old) {
      if (e.hash == 0) continue;
      size_t i = e.hash & mask;
      while (slots_[i].hash != 0) i = (i + 1) & mask;
      slots_[i] = e;
    }
  }

  // A list: the ids, in the order they came. A table: a power of two in
  // size, hash 0 marking a free slot. Either way the id whose hash is 0 is
  // kept aside (zero_).
  std::vector<DedupEntry> slots_;
  size_t size_ = 0;  // ids kept, the one aside included
  bool table_ = false;
  bool zero_ = false;
  int64_t zero_time_ = 0;
  int64_t oldest_ = kNever;  // no time kept is older (a lower bound)
};

}  // namespace leadscore::internal

#endif  // LEADSCORE_LIB_ENGINE_DEDUP_SET_H_
