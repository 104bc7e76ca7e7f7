"""keys.recent.Recent: the bound the key backend and the keyring keep their caches in (issue 17)."""

from keys.recent import Recent


def test_the_least_recently_used_goes_first_and_a_read_counts_as_a_use() -> None:
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.get("a") == 1          # "a" used again: "b" is now the oldest
    recent.put("c", 3)
    assert list(recent) == ["a", "c"] and recent.get("b") is None


def test_drop_forgets_what_it_picks_and_pop_one() -> None:
    recent: Recent[tuple[str, int], str] = Recent(10)
    for key in [("t1", 1), ("t1", 2), ("t2", 1)]:
        recent.put(key, "k")
    recent.drop(lambda key: key[0] == "t1")
    recent.pop(("t2", 1))
    recent.pop(("never", 0))
    assert list(recent) == []
