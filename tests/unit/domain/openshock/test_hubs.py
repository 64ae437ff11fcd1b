"""Hubs and pair codes: every change an event, limits race-free, others' hubs invisible."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.commands import Command
from domain.errors import DomainError
from domain.openshock.commands import (
    CreateHub,
    DeleteHub,
    IssuePairCode,
    RedeemPairCode,
    RegenerateHubToken,
    RenameHub,
)
from domain.openshock.errors import (
    HubNotFound,
    InvalidRequest,
    PairCodeNotFound,
    PairCodeTaken,
    PermissionMissing,
    TooManyHubs,
)
from domain.openshock.hub import Hub, HubOwner, hub_owner_id
from domain.openshock.hub_handlers import hub_for_token
from domain.openshock.shocker import Shocker
from domain.openshock.values import Permission
from tests.unit.domain.openshock.world import (
    ALICE,
    BOB,
    NOW,
    add_hub,
    add_shocker,
    context,
    kinds,
    new_world,
    pending,
    session,
    token,
)
from tests.unit.fakes import MemoryUnitOfWork


def test_a_hub_is_created_renamed_regenerated_and_deleted_as_events() -> None:
    uow = new_world()
    hub_id = add_hub(uow)
    uow.run(RenameHub(caller=session(), hub_id=hub_id, name=" Desk ", context=context()))
    uow.run(RenameHub(caller=session(), hub_id=hub_id, name="Desk", context=context()))  # no-op
    uow.run(
        RegenerateHubToken(
            caller=session(),
            hub_id=hub_id,
            token_hash="h2",
            sealed_token="sealed",
            context=context(),
        )
    )
    shocker_id = add_shocker(uow, hub_id)
    uow.run(DeleteHub(caller=session(), hub_id=hub_id, context=context()))
    hub = uow.get(Hub, hub_id)
    assert hub is not None and hub.deleted and hub.name == "Desk"
    assert kinds(hub.collect_events()) == [
        "Hub.Created",
        "Hub.Renamed",
        "Hub.TokenRegenerated",
        "Hub.ShockerAttached",
        "Hub.Deleted",
    ]
    shocker = uow.get(Shocker, shocker_id)
    assert shocker is not None and shocker.deleted  # a hub's shockers go with it
    owner = uow.get(HubOwner, hub_owner_id(str(ALICE)))
    assert owner is not None and owner.hubs == []
    assert hub.token_hash == "h2"


def test_events_carry_actor_credential_and_address() -> None:
    uow = new_world()
    hub_id = add_hub(uow)
    hub = uow.get(Hub, hub_id)
    assert hub is not None
    created = hub.collect_events()[0]
    meta = created.meta  # type: ignore[attr-defined]
    assert meta["actor_id"] == str(ALICE) and meta["credential_id"] == "session-1"
    assert meta["source_address"] == "10.0.0.9"
    assert hub.token_hash == "hash-1"  # only the hash is kept


def test_a_fifth_hub_is_refused_and_nothing_changes() -> None:
    uow = new_world()
    for n in range(4):
        add_hub(uow, hashed=f"h{n}")
    pending(uow)
    with pytest.raises(TooManyHubs) as refused:
        add_hub(uow, hashed="h5")
    assert refused.value.code == "Device.TooManyHubs"
    assert pending(uow) == []
    # Bob's count is his own; deleting one of Alice's makes room again.
    add_hub(uow, user=BOB, hashed="b1")
    owner = uow.get(HubOwner, hub_owner_id(str(ALICE)))
    assert owner is not None
    uow.run(DeleteHub(caller=session(), hub_id=UUID(owner.hubs[0]), context=context()))
    add_hub(uow, hashed="h6")


@pytest.mark.parametrize(
    "make",
    [
        lambda hub: RenameHub(caller=session(BOB), hub_id=hub, name="x", context=context(BOB)),
        lambda hub: RegenerateHubToken(
            caller=session(BOB),
            hub_id=hub,
            token_hash="x",
            sealed_token="sealed",
            context=context(BOB),
        ),
        lambda hub: DeleteHub(caller=session(BOB), hub_id=hub, context=context(BOB)),
        lambda hub: IssuePairCode(
            caller=session(BOB), hub_id=hub, code="123456", now=NOW, context=context(BOB)
        ),
        lambda hub: RenameHub(caller=session(), hub_id=uuid4(), name="x", context=context()),
    ],
)
def test_another_users_hub_looks_missing(make: Callable[[UUID], Command]) -> None:
    uow = new_world()
    hub_id = add_hub(uow)
    pending(uow)
    with pytest.raises(HubNotFound) as refused:
        uow.run(make(hub_id))
    assert refused.value.code == "Device.NotFound"
    assert pending(uow) == []


def test_a_token_needs_devices_edit() -> None:
    uow = new_world()
    with pytest.raises(PermissionMissing) as refused:
        uow.run(
            CreateHub(
                caller=token(Permission.SHOCKERS_USE),
                name="H",
                token_hash="h",
                sealed_token="sealed",
                context=context(),
            )
        )
    assert refused.value.extensions == {
        "requiredPermission": "devices.edit",
        "grantedPermissions": ["shockers.use"],
    }
    uow.run(
        CreateHub(
            caller=token(Permission.DEVICES_EDIT),
            name="H",
            token_hash="h",
            sealed_token="sealed",
            context=context(),
        )
    )


@pytest.mark.parametrize("name", ["", "   ", "x" * 65])
def test_a_hub_name_is_1_to_64_characters(name: str) -> None:
    uow = new_world()
    with pytest.raises(InvalidRequest) as refused:
        uow.run(
            CreateHub(
                caller=session(),
                name=name,
                token_hash="h",
                sealed_token="sealed",
                context=context(),
            )
        )
    assert refused.value.errors == {"name": ["must be 1 to 64 characters"]}


def test_the_hub_token_finds_its_hub_until_regenerated_or_deleted() -> None:
    uow = new_world()
    hub_id = add_hub(uow, hashed="first")
    found = hub_for_token(uow, "first")
    assert found is not None and found.id == hub_id
    uow.run(
        RegenerateHubToken(
            caller=session(),
            hub_id=hub_id,
            token_hash="second",
            sealed_token="sealed",
            context=context(),
        )
    )
    assert hub_for_token(uow, "first") is None
    assert hub_for_token(uow, "second") is not None
    uow.run(DeleteHub(caller=session(), hub_id=hub_id, context=context()))
    assert hub_for_token(uow, "second") is None
    assert hub_for_token(uow, "never") is None


def _issue(uow: MemoryUnitOfWork, hub_id: UUID, code: str = "123456", at: datetime = NOW) -> str:
    issued: str = uow.run(
        IssuePairCode(caller=session(), hub_id=hub_id, code=code, now=at, context=context())
    )
    return issued


def _redeem(
    uow: MemoryUnitOfWork, code: str = "123456", at: datetime = NOW, hashed: str = "paired"
) -> UUID:
    hub_id: UUID = uow.run(
        RedeemPairCode(
            code=code, token_hash=hashed, sealed_token="sealed", now=at, context=context()
        )
    )
    return hub_id


def test_a_pair_code_is_used_once_and_hands_the_hub_a_fresh_token() -> None:
    uow = new_world()
    hub_id = add_hub(uow, hashed="original")
    assert _issue(uow, hub_id) == "123456"
    assert _redeem(uow, at=NOW + timedelta(minutes=14)) == hub_id
    assert hub_for_token(uow, "paired") is not None
    assert hub_for_token(uow, "original") is None
    pending(uow)
    with pytest.raises(PairCodeNotFound) as refused:
        _redeem(uow, hashed="again")
    assert refused.value.code == "Pair.CodeNotFound"
    assert pending(uow) == []


def test_a_pair_code_expires_after_15_minutes() -> None:
    uow = new_world()
    hub_id = add_hub(uow)
    _issue(uow, hub_id)
    with pytest.raises(PairCodeNotFound):
        _redeem(uow, at=NOW + timedelta(minutes=15))


def test_a_new_code_replaces_the_hubs_previous_one() -> None:
    uow = new_world()
    hub_id = add_hub(uow)
    _issue(uow, hub_id, code="111111")
    _issue(uow, hub_id, code="222222")
    with pytest.raises(PairCodeNotFound):
        _redeem(uow, code="111111")
    assert _redeem(uow, code="222222") == hub_id


def test_a_live_code_of_another_hub_is_not_handed_out_twice_but_a_dead_one_is() -> None:
    uow = new_world()
    first, second = add_hub(uow, hashed="a"), add_hub(uow, hashed="b")
    _issue(uow, first)
    with pytest.raises(PairCodeTaken):
        _issue(uow, second)
    later = NOW + timedelta(minutes=16)
    _issue(uow, second, at=later)  # the first hub's code expired: its slot is free
    assert _redeem(uow, at=later) == second


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "012345"])
def test_a_malformed_pair_code_is_simply_not_found(code: str) -> None:
    uow = new_world()
    with pytest.raises(PairCodeNotFound):
        _redeem(uow, code=code)


def test_the_hub_keeps_its_current_token_sealed_and_refuses_none() -> None:
    uow = new_world()
    hub_id = add_hub(uow)
    uow.run(
        RegenerateHubToken(
            caller=session(), hub_id=hub_id, token_hash="h2", sealed_token="s2", context=context()
        )
    )
    hub = uow.get(Hub, hub_id)
    assert hub is not None and hub.sealed_token == "s2"
    _issue(uow, hub_id)
    uow.run(
        RedeemPairCode(
            code="123456", token_hash="h3", sealed_token="s3", now=NOW, context=context()
        )
    )
    hub = uow.get(Hub, hub_id)
    assert hub is not None and hub.sealed_token == "s3"
    pending(uow)
    with pytest.raises(DomainError):
        uow.run(
            RegenerateHubToken(
                caller=session(), hub_id=hub_id, token_hash="h4", sealed_token="", context=context()
            )
        )
    assert pending(uow) == []


def test_a_hub_recorded_before_tokens_were_sealed_has_none() -> None:
    uow = new_world()
    hub_id = add_hub(uow)
    hub = uow.get(Hub, hub_id)
    assert hub is not None
    created = hub.collect_events()[0]
    # As the store's mapper rebuilds an event: its recorded fields, no __init__.
    old = object.__new__(type(created))
    object.__setattr__(
        old, "__dict__", {k: v for k, v in vars(created).items() if k != "sealed_token"}
    )
    replayed = old.mutate(None)
    assert isinstance(replayed, Hub) and replayed.sealed_token == ""
