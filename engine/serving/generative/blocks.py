"""The paged KV block manager (pure Python, as nano-vllm's).

The KV pool is ``num_blocks`` blocks of ``block_size`` token slots. Each sequence owns a block
table (the pool's block ids in position order); a block has a reference count, so sequences
whose prompts start alike share the blocks of their common prefix. Only FULL blocks whose K/V
has been computed are shared: they are found by a hash chain over their token ids (a block's
hash covers its tokens and the hash of the block before it, so a match means the whole prefix
matches; the token ids are compared too, so a hash collision cannot share wrong K/V).

A block whose last reference goes stays cached in the free list with its hash until the block
is taken for new tokens, so a preempted sequence that is recomputed, or a later request with
the same prefix, finds it again. The free list is least-recently-freed first and a sequence's
blocks are freed tail first, so a prefix outlives its tail.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

_NO_HASH = -1


@dataclass(frozen=True, slots=True)
class BlockUsage:
    """Tokens held in the pool (shared blocks counted once) against the slots allocated."""

    tokens_held: int
    slots_allocated: int
    blocks_used: int

    @property
    def wasted_slots(self) -> int:
        return self.slots_allocated - self.tokens_held

    @property
    def waste_ratio(self) -> float:
        """Wasted slots / tokens held (0 when nothing is held)."""
        return self.wasted_slots / self.tokens_held if self.tokens_held else 0.0


class BlockManager:
    def __init__(self, num_blocks: int, block_size: int, *, prefix_caching: bool = True):
        if not isinstance(num_blocks, int) or num_blocks < 1:
            raise ValueError("num_blocks must be an integer >= 1")
        if not isinstance(block_size, int) or block_size < 1:
            raise ValueError("block_size must be an integer >= 1")
        self.num_blocks = num_blocks
        self.block_size = block_size
        self.prefix_caching = prefix_caching
        self.block_tables: dict[Hashable, list[int]] = {}
        self._ref = [0] * num_blocks
        # Free blocks in the order they were freed (a dict is an ordered set with O(1) removal).
        self._free: dict[int, None] = dict.fromkeys(range(num_blocks))
        self._block_hash = [_NO_HASH] * num_blocks
        self._block_tokens: list[tuple[int, ...] | None] = [None] * num_blocks
        self._hash_to_block: dict[int, int] = {}
        self._seq_hashes: dict[Hashable, list[int]] = {}  # hash chain of each sequence's full blocks
        self._held: dict[Hashable, int] = {}  # tokens each sequence has slots for

    # -- counts --------------------------------------------------------------------------------
    @property
    def free_blocks(self) -> int:
        return len(self._free)

    @property
    def used_blocks(self) -> int:
        return self.num_blocks - len(self._free)

    def blocks_for(self, num_tokens: int) -> int:
        return -(-num_tokens // self.block_size)

    def usage(self) -> BlockUsage:
        shared_slots = sum((r - 1) * self.block_size for r in self._ref if r > 1)
        used = self.used_blocks
        return BlockUsage(
            tokens_held=sum(self._held.values()) - shared_slots,
            slots_allocated=used * self.block_size,
            blocks_used=used,
        )

    # -- prefix cache --------------------------------------------------------------------------
    def _match(self, token_ids: Sequence[int]) -> tuple[list[int], list[int]]:
        """(block ids, hashes) of the longest cached prefix of full blocks, leaving at least
        the last token to compute (its logits give the next token)."""
        if not self.prefix_caching:
            return [], []
        bs = self.block_size
        blocks: list[int] = []
        hashes: list[int] = []
        prev = _NO_HASH
        for i in range((len(token_ids) - 1) // bs):
            tokens = tuple(token_ids[i * bs:(i + 1) * bs])
            h = hash((prev, tokens))
            block = self._hash_to_block.get(h)
            if block is None or self._block_tokens[block] != tokens:
                break
            blocks.append(block)
            hashes.append(h)
            prev = h
        return blocks, hashes

    def num_cached_tokens(self, token_ids: Sequence[int]) -> int:
        """Tokens at the start of ``token_ids`` whose K/V a first ``allocate`` would share."""
        return len(self._match(token_ids)[0]) * self.block_size

    # -- allocation ----------------------------------------------------------------------------
    def _plan(self, seq_id: Hashable, token_ids: Sequence[int], num_slots: int) -> tuple[list[int], list[int], int]:
        """(cached blocks to share, their hashes, fresh blocks to take) to cover ``num_slots``."""
        table = self.block_tables.get(seq_id)
        matched, hashes = ([], []) if table else self._match(token_ids)
        have = len(table) if table else len(matched)
        return matched, hashes, max(0, self.blocks_for(num_slots) - have)

    def can_allocate(
        self, seq_id: Hashable, token_ids: Sequence[int], num_tokens: int, *, reserve_tokens: int = 0
    ) -> bool:
        table = self.block_tables.get(seq_id)
        if table and len(table) * self.block_size >= max(num_tokens, reserve_tokens):
            return True  # the common case, a decode inside its last block
        matched, _, fresh = self._plan(seq_id, token_ids, max(num_tokens, reserve_tokens))
        revived = sum(1 for b in matched if self._ref[b] == 0)
        return fresh + revived <= len(self._free)

    def allocate(
        self, seq_id: Hashable, token_ids: Sequence[int], num_tokens: int, *, reserve_tokens: int = 0
    ) -> int:
        """Make the sequence's table cover ``num_tokens`` token slots (at least
        ``reserve_tokens`` of them allocated). On the sequence's first allocation its cached
        prefix is shared; returns the number of tokens shared that way (0 afterwards).
        Raises ``RuntimeError`` when the pool is short (ask ``can_allocate`` first)."""
        table = self.block_tables.get(seq_id)
        if table and len(table) * self.block_size >= max(num_tokens, reserve_tokens):
            if num_tokens > self._held[seq_id]:
                self._held[seq_id] = num_tokens
            return 0
        if not self.can_allocate(seq_id, token_ids, num_tokens, reserve_tokens=reserve_tokens):
            raise RuntimeError(f"KV pool has too few free blocks for sequence {seq_id!r}")
        matched, hashes, fresh = self._plan(seq_id, token_ids, max(num_tokens, reserve_tokens))
        table = self.block_tables.setdefault(seq_id, [])
        if not table:
            self._seq_hashes[seq_id] = hashes
            for block in matched:
                if self._ref[block] == 0:
                    del self._free[block]
                self._ref[block] += 1
                table.append(block)
        for _ in range(fresh):
            table.append(self._take_free())
        self._held[seq_id] = max(self._held.get(seq_id, 0), num_tokens)
        return len(matched) * self.block_size

    def _take_free(self) -> int:
        block = next(iter(self._free))
        del self._free[block]
        h = self._block_hash[block]
        if h != _NO_HASH:  # its cached content is overwritten now
            if self._hash_to_block.get(h) == block:
                del self._hash_to_block[h]
            self._block_hash[block] = _NO_HASH
            self._block_tokens[block] = None
        self._ref[block] = 1
        return block

    def can_append(self, seq_id: Hashable) -> bool:
        """Whether one more token slot fits (a new block is needed only at a block boundary)."""
        held = self._held.get(seq_id, 0)
        table = self.block_tables.get(seq_id, ())
        return held < len(table) * self.block_size or len(self._free) > 0

    def append_slot(self, seq_id: Hashable) -> None:
        held = self._held.get(seq_id, 0)
        table = self.block_tables.setdefault(seq_id, [])
        if held >= len(table) * self.block_size:
            if not self._free:
                raise RuntimeError(f"KV pool has no free block for sequence {seq_id!r}")
            table.append(self._take_free())
        self._held[seq_id] = held + 1

    def commit(self, seq_id: Hashable, token_ids: Sequence[int], num_computed_tokens: int) -> None:
        """Record that the first ``num_computed_tokens`` tokens' K/V is written, so the full
        blocks among them can be shared from now on. Call after the step has run."""
        if not self.prefix_caching:
            return
        bs = self.block_size
        hashes = self._seq_hashes.setdefault(seq_id, [])
        if num_computed_tokens // bs <= len(hashes):
            return  # no block filled up since the last call
        table = self.block_tables[seq_id]
        prev = hashes[-1] if hashes else _NO_HASH
        for i in range(len(hashes), min(num_computed_tokens // bs, len(table))):
            tokens = tuple(token_ids[i * bs:(i + 1) * bs])
            h = hash((prev, tokens))
            block = table[i]
            # A copy of a block already cached (two sequences prefilled the same prefix in one
            # step) stays unregistered: the first copy is the one shared.
            if h not in self._hash_to_block:
                self._hash_to_block[h] = block
                self._block_hash[block] = h
                self._block_tokens[block] = tokens
            hashes.append(h)
            prev = h

    def free(self, seq_id: Hashable) -> None:
        """Release the sequence's blocks; those no one else holds return to the free list
        (tail first), keeping their cached content until taken."""
        for block in reversed(self.block_tables.pop(seq_id, [])):
            self._ref[block] -= 1
            if self._ref[block] == 0:
                self._free[block] = None
        self._seq_hashes.pop(seq_id, None)
        self._held.pop(seq_id, None)
