"""Cluster-wide presence from each node's reports: first and last node decide."""

from __future__ import annotations

from projections.pusher_presence_view import (
    ChannelOccupied,
    ChannelVacated,
    ClusterPresence,
    CountChanged,
    MemberAdded,
    MemberRemoved,
    NodeChange,
    UserOffline,
    UserOnline,
)


class Node:
    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        self.version = 0

    def change(self, kind: str, channel: str = "presence-a", **fields: object) -> NodeChange:
        self.version += 1
        return NodeChange(self.node_id, kind, self.version, "1", channel, **fields)  # type: ignore[arg-type]


def test_a_member_is_added_on_its_first_node_and_removed_on_its_last() -> None:
    cluster = ClusterPresence()
    a, b = Node("a"), Node("b")
    assert cluster.apply(a.change("joined", user_id="ann", user_info={"n": 1})) == [
        MemberAdded("1", "presence-a", "ann", {"n": 1})
    ]
    assert cluster.apply(b.change("joined", user_id="ann", user_info={"n": 1})) == []
    assert cluster.users("1", "presence-a") == {"ann": {"n": 1}}
    assert cluster.apply(a.change("left", user_id="ann")) == []
    assert cluster.apply(b.change("left", user_id="ann")) == [
        MemberRemoved("1", "presence-a", "ann")
    ]
    assert cluster.users("1", "presence-a") == {}


def test_occupied_and_vacated_once_for_the_cluster_and_counts_add_up() -> None:
    cluster = ClusterPresence()
    a, b = Node("a"), Node("b")
    assert cluster.apply(a.change("occupied", "lobby")) == [
        ChannelOccupied("1", "lobby"),
        CountChanged("1", "lobby", 1),
    ]
    assert cluster.apply(b.change("occupied", "lobby")) == [CountChanged("1", "lobby", 2)]
    assert cluster.apply(b.change("counted", "lobby", count=5)) == [CountChanged("1", "lobby", 6)]
    assert cluster.subscription_count("1", "lobby") == 6
    assert cluster.apply(a.change("vacated", "lobby")) == [CountChanged("1", "lobby", 5)]
    assert cluster.apply(b.change("vacated", "lobby")) == [
        CountChanged("1", "lobby", 0),
        ChannelVacated("1", "lobby"),
    ]
    assert cluster.channels("1") == {}


def test_a_gone_node_takes_its_members_and_channels_and_later_reports_are_ignored() -> None:
    cluster = ClusterPresence()
    a, b = Node("a"), Node("b")
    cluster.apply(a.change("occupied"))
    cluster.apply(a.change("joined", user_id="ann"))
    cluster.apply(b.change("occupied"))
    cluster.apply(b.change("joined", user_id="ann"))
    cluster.apply(b.change("joined", user_id="bob"))
    gone = cluster.apply(b.change("ended"))
    assert MemberRemoved("1", "presence-a", "bob") in gone
    assert MemberRemoved("1", "presence-a", "ann") not in gone
    assert ChannelVacated("1", "presence-a") not in gone
    assert cluster.apply(b.change("joined", user_id="eve")) == []
    assert sorted(cluster.users("1", "presence-a")) == ["ann"]


def test_a_record_already_loaded_is_skipped() -> None:
    cluster = ClusterPresence()
    a = Node("a")
    first = a.change("joined", user_id="ann")
    assert cluster.apply(first) and cluster.apply(first) == []


def test_a_user_is_online_from_its_first_node_to_its_last_and_a_gone_node_signs_out() -> None:
    cluster = ClusterPresence()
    a, b = Node("a"), Node("b")
    assert cluster.apply(a.change("online", "", user_id="ann")) == [UserOnline("1", "ann")]
    assert cluster.apply(b.change("online", "", user_id="ann")) == []
    assert cluster.apply(a.change("offline", "", user_id="ann")) == []
    assert cluster.is_online("1", "ann")
    assert cluster.apply(b.change("online", "", user_id="bob")) == [UserOnline("1", "bob")]
    assert set(cluster.apply(b.change("ended"))) == {
        UserOffline("1", "ann"),
        UserOffline("1", "bob"),
    }
    assert cluster.online_users() == []
