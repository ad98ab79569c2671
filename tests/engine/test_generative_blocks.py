"""The paged KV block manager: allocation, prefix sharing, caching after free, no leaks."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.serving.generative.blocks import BlockManager


def _consistent(bm: BlockManager) -> None:
    """Every block is free xor referenced, as often as tables hold it."""
    held: dict[int, int] = {}
    for table in bm.block_tables.values():
        for b in table:
            held[b] = held.get(b, 0) + 1
    for b in range(bm.num_blocks):
        assert bm._ref[b] == held.get(b, 0)
        assert (b in bm._free) == (held.get(b, 0) == 0)
    assert bm.used_blocks == len(held)


def test_it_allocates_blocks_as_tokens_arrive_and_frees_them():
    bm = BlockManager(8, 4)
    assert bm.allocate("a", list(range(10)), 10) == 0
    assert len(bm.block_tables["a"]) == 3
    assert (bm.used_blocks, bm.free_blocks) == (3, 5)
    bm.allocate("a", list(range(12)), 12)  # the third block had room
    assert len(bm.block_tables["a"]) == 3
    bm.append_slot("a")  # token 13 opens a fourth block
    assert len(bm.block_tables["a"]) == 4
    bm.free("a")
    assert (bm.used_blocks, bm.free_blocks) == (0, 8)
    _consistent(bm)


def test_it_refuses_what_the_pool_cannot_hold():
    bm = BlockManager(2, 4)
    assert not bm.can_allocate("a", list(range(9)), 9)
    with pytest.raises(RuntimeError):
        bm.allocate("a", list(range(9)), 9)
    assert bm.used_blocks == 0
    bm.allocate("a", list(range(8)), 8)
    assert not bm.can_append("a")
    with pytest.raises(RuntimeError):
        bm.append_slot("a")


def test_it_shares_computed_full_blocks_of_a_common_prefix():
    bm = BlockManager(16, 4)
    prompt = list(range(10))  # two full blocks and a partial one
    bm.allocate("a", prompt, 10)
    assert bm.num_cached_tokens(prompt) == 0  # not computed yet
    bm.commit("a", prompt, 10)
    other = prompt[:8] + [99, 98, 97]
    assert bm.num_cached_tokens(other) == 8
    assert bm.allocate("b", other, 11) == 8
    assert bm.block_tables["b"][:2] == bm.block_tables["a"][:2]
    assert bm.block_tables["b"][2] != bm.block_tables["a"][2]
    assert bm.used_blocks == 4
    usage = bm.usage()
    assert usage.tokens_held == 10 + 3  # the shared 8 counted once
    assert usage.slots_allocated == 16
    bm.free("a")
    assert bm.used_blocks == 3  # b still holds the prefix
    bm.free("b")
    assert bm.used_blocks == 0
    _consistent(bm)


def test_a_different_first_block_shares_nothing_even_if_later_blocks_match():
    bm = BlockManager(16, 4)
    prompt = list(range(12))
    bm.allocate("a", prompt, 12)
    bm.commit("a", prompt, 12)
    assert bm.num_cached_tokens([50, 51, 52, 53, *prompt[4:]]) == 0


def test_it_leaves_the_last_token_to_compute_when_the_whole_prompt_is_cached():
    bm = BlockManager(16, 4)
    prompt = list(range(8))
    bm.allocate("a", prompt, 8)
    bm.commit("a", prompt, 8)
    assert bm.num_cached_tokens(prompt) == 4


def test_freed_blocks_stay_cached_until_reused():
    bm = BlockManager(3, 4)
    prompt = list(range(8))
    bm.allocate("a", prompt, 8)
    bm.commit("a", prompt, 8)
    bm.free("a")
    assert bm.num_cached_tokens([*prompt, 5]) == 8
    assert bm.allocate("b", [*prompt, 5], 9) == 8  # revived from the free list
    assert bm.used_blocks == 3
    bm.free("b")
    # The tail was freed first, so a new sequence takes the free block, then the tail's.
    bm.allocate("c", [7] * 8, 8)
    assert bm.num_cached_tokens([*prompt, 5]) == 4
    bm.free("c")
    _consistent(bm)


def test_usage_counts_reserved_but_empty_slots_as_waste():
    bm = BlockManager(16, 4)
    bm.allocate("a", [1, 2, 3], 3, reserve_tokens=16)
    usage = bm.usage()
    assert (usage.tokens_held, usage.slots_allocated, usage.wasted_slots) == (3, 16, 13)
    assert usage.waste_ratio == pytest.approx(13 / 3)


ops = st.lists(
    st.tuples(st.sampled_from(["grow", "append", "free"]), st.integers(0, 3), st.integers(1, 9)),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(ops=ops, prefix=st.integers(0, 2))
def test_random_operations_keep_counts_consistent_and_leak_nothing(ops, prefix):
    bm = BlockManager(12, 4)
    tokens: dict[int, list[int]] = {}
    for op, sid, n in ops:
        seq = tokens.get(sid)
        if op == "grow":
            # Sequences 0-2 share a prefix of ``prefix`` blocks, so some allocations share.
            base = seq if seq is not None else [1000 + t for t in range(4 * prefix)] + [sid]
            grown = base + [sid * 100 + len(base) + k for k in range(n)]
            if bm.can_allocate(sid, grown, len(grown)):
                bm.allocate(sid, grown, len(grown))
                bm.commit(sid, grown, len(grown))
                tokens[sid] = grown
        elif op == "append" and seq is not None and bm.can_append(sid):
            bm.append_slot(sid)
            seq.append(sid)
            bm.commit(sid, seq, len(seq))
        elif op == "free" and seq is not None:
            bm.free(sid)
            del tokens[sid]
        _consistent(bm)
        for sid, seq in tokens.items():
            assert len(bm.block_tables[sid]) * 4 >= len(seq)
    for sid in list(tokens):
        bm.free(sid)
    assert bm.used_blocks == 0 and bm.free_blocks == 12
    assert bm.usage().tokens_held == 0
