"""Decisions about hubs, their pairing, and their shockers."""

from __future__ import annotations

import re
from uuid import UUID

from domain.commands import UnitOfWork
from domain.errors import DomainError
from domain.openshock.commands import (
    CreateHub,
    DeleteHub,
    EditShocker,
    IssuePairCode,
    PauseShocker,
    RedeemPairCode,
    RegenerateHubToken,
    RegisterShocker,
    RemoveShocker,
    RenameHub,
)
from domain.openshock.errors import (
    HubNotFound,
    PairCodeNotFound,
    PairCodeTaken,
    ShockerNotFound,
    TooManyHubs,
    TooManyShockers,
    invalid,
)
from domain.openshock.hub import (
    Hub,
    HubCredential,
    HubOwner,
    PairCode,
    hub_credential_id,
    hub_owner_id,
    pair_code_id,
)
from domain.openshock.shocker import Shocker
from domain.openshock.values import (
    MAX_HUBS_PER_USER,
    MAX_RF_ID,
    MAX_SHOCKERS_PER_HUB,
    PAIR_CODE_LIFETIME,
    Caller,
    Permission,
    ShockerModel,
    checked_name,
    parse_enum,
)

_PAIR_CODE = re.compile(r"[1-9][0-9]{5}")


def create_hub(command: CreateHub, uow: UnitOfWork) -> UUID:
    command.caller.require(Permission.DEVICES_EDIT)
    name = checked_name(command.name)
    token_hash = _checked_token_hash(command.token_hash)
    sealed_token = _checked_sealed_token(command.sealed_token)
    user_id = str(command.caller.user_id)
    meta = command.context.as_metadata()
    owner = uow.get(HubOwner, hub_owner_id(user_id))
    if owner is not None and len(owner.hubs) >= MAX_HUBS_PER_USER:
        raise TooManyHubs(f"You have reached the maximum number of hubs ({MAX_HUBS_PER_USER})")
    if owner is None:
        owner = HubOwner(user_id=user_id, meta=meta)
        uow.add(owner)
    hub = Hub(
        owner_id=user_id, name=name, token_hash=token_hash, sealed_token=sealed_token, meta=meta
    )
    uow.add(hub)
    owner.add_hub(str(hub.id), meta=meta)
    uow.add(HubCredential(token_hash=token_hash, hub_id=str(hub.id), meta=meta))
    return hub.id


def rename_hub(command: RenameHub, uow: UnitOfWork) -> None:
    command.caller.require(Permission.DEVICES_EDIT)
    name = checked_name(command.name)
    hub = own_hub(uow, command.caller, command.hub_id)
    if name != hub.name:
        hub.rename(name, meta=command.context.as_metadata())


def regenerate_hub_token(command: RegenerateHubToken, uow: UnitOfWork) -> None:
    command.caller.require(Permission.DEVICES_EDIT)
    token_hash = _checked_token_hash(command.token_hash)
    sealed_token = _checked_sealed_token(command.sealed_token)
    hub = own_hub(uow, command.caller, command.hub_id)
    meta = command.context.as_metadata()
    hub.regenerate_token(token_hash, sealed_token=sealed_token, meta=meta)
    uow.add(HubCredential(token_hash=token_hash, hub_id=str(hub.id), meta=meta))


def delete_hub(command: DeleteHub, uow: UnitOfWork) -> None:
    command.caller.require(Permission.DEVICES_EDIT)
    hub = own_hub(uow, command.caller, command.hub_id)
    meta = command.context.as_metadata()
    for shocker_id in list(hub.shockers):
        shocker = uow.get(Shocker, UUID(shocker_id))
        if shocker is not None and not shocker.deleted:
            shocker.delete(meta=meta)
    hub.delete(meta=meta)
    owner = uow.get(HubOwner, hub_owner_id(hub.owner_id))
    if owner is not None and str(hub.id) in owner.hubs:
        owner.remove_hub(str(hub.id), meta=meta)


def issue_pair_code(command: IssuePairCode, uow: UnitOfWork) -> str:
    command.caller.require(Permission.DEVICES_EDIT)
    if not _PAIR_CODE.fullmatch(command.code):
        raise DomainError("a pair code is 6 digits, 100000 to 999999")
    hub = own_hub(uow, command.caller, command.hub_id)
    meta = command.context.as_metadata()
    expires_at = command.now + PAIR_CODE_LIFETIME
    slot = uow.get(PairCode, pair_code_id(command.code))
    if slot is None:
        uow.add(PairCode(code=command.code, hub_id=str(hub.id), expires_at=expires_at, meta=meta))
    elif _pairs_a_hub(uow, slot, command):
        raise PairCodeTaken()
    else:
        slot.reissue(str(hub.id), expires_at, meta=meta)
    hub.issue_pair_code(command.code, expires_at, meta=meta)
    return command.code


def redeem_pair_code(command: RedeemPairCode, uow: UnitOfWork) -> UUID:
    """Single use: the hub's token is replaced by a fresh one, handed back to the hub."""
    token_hash = _checked_token_hash(command.token_hash)
    sealed_token = _checked_sealed_token(command.sealed_token)
    slot = (
        uow.get(PairCode, pair_code_id(command.code))
        if _PAIR_CODE.fullmatch(command.code)
        else None
    )
    if slot is None or not _pairs_a_hub(uow, slot, command):
        raise PairCodeNotFound()
    hub = uow.get(Hub, UUID(slot.hub_id))
    assert hub is not None  # _pairs_a_hub found it
    meta = command.context.as_metadata()
    slot.use(meta=meta)
    hub.pair(command.code, token_hash, sealed_token=sealed_token, meta=meta)
    uow.add(HubCredential(token_hash=token_hash, hub_id=str(hub.id), meta=meta))
    return hub.id


def _pairs_a_hub(uow: UnitOfWork, slot: PairCode, command: IssuePairCode | RedeemPairCode) -> bool:
    """Whether the code in this slot is live: unused, unexpired, and still its hub's code."""
    if slot.used or command.now >= slot.expires_at:
        return False
    hub = uow.get(Hub, UUID(slot.hub_id))
    return hub is not None and hub.pair_code_is_live(slot.code, command.now)


def register_shocker(command: RegisterShocker, uow: UnitOfWork) -> UUID:
    command.caller.require(Permission.SHOCKERS_EDIT)
    name, rf_id, model = _checked_shocker(command)
    hub = own_hub(uow, command.caller, command.hub_id)
    _require_room(hub)
    meta = command.context.as_metadata()
    shocker = Shocker(
        hub_id=str(hub.id), owner_id=hub.owner_id, name=name, rf_id=rf_id, model=model, meta=meta
    )
    uow.add(shocker)
    hub.attach_shocker(str(shocker.id), meta=meta)
    return shocker.id


def edit_shocker(command: EditShocker, uow: UnitOfWork) -> None:
    command.caller.require(Permission.SHOCKERS_EDIT)
    name, rf_id, model = _checked_shocker(command)
    # The real API looks for the target hub first, then the shocker.
    target = own_hub(uow, command.caller, command.hub_id)
    shocker = own_shocker(uow, command.caller, command.shocker_id)
    meta = command.context.as_metadata()
    if shocker.hub_id != str(target.id):
        # Moving: the target hub must have room (the real API forgets to check, the firmware
        # does not take more).
        _require_room(target)
        source = uow.get(Hub, UUID(shocker.hub_id))
        if source is not None and str(shocker.id) in source.shockers:
            source.detach_shocker(str(shocker.id), meta=meta)
        target.attach_shocker(str(shocker.id), meta=meta)
    if (shocker.hub_id, shocker.name, shocker.rf_id, shocker.model) != (
        str(target.id),
        name,
        rf_id,
        model,
    ):
        shocker.edit(str(target.id), name, rf_id, model, meta=meta)


def pause_shocker(command: PauseShocker, uow: UnitOfWork) -> bool:
    command.caller.require(Permission.SHOCKERS_PAUSE)
    shocker = own_shocker(uow, command.caller, command.shocker_id)
    if shocker.paused != command.paused:
        shocker.set_paused(command.paused, meta=command.context.as_metadata())
    return command.paused


def remove_shocker(command: RemoveShocker, uow: UnitOfWork) -> None:
    command.caller.require(Permission.SHOCKERS_EDIT)
    shocker = own_shocker(uow, command.caller, command.shocker_id)
    meta = command.context.as_metadata()
    hub = uow.get(Hub, UUID(shocker.hub_id))
    if hub is not None and str(shocker.id) in hub.shockers:
        hub.detach_shocker(str(shocker.id), meta=meta)
    shocker.delete(meta=meta)


def own_hub(uow: UnitOfWork, caller: Caller, hub_id: UUID) -> Hub:
    """The caller's hub; someone else's is refused exactly as a missing one."""
    hub = uow.get(Hub, hub_id)
    if hub is None or not hub.is_owned_by(str(caller.user_id)):
        raise HubNotFound()
    return hub


def own_shocker(uow: UnitOfWork, caller: Caller, shocker_id: UUID) -> Shocker:
    shocker = uow.get(Shocker, shocker_id)
    if shocker is None or not shocker.is_owned_by(str(caller.user_id)):
        raise ShockerNotFound()
    return shocker


def hub_for_token(uow: UnitOfWork, token_hash: str) -> Hub | None:
    """The hub a hub token belongs to now (DeviceToken / Device-Token), or None."""
    credential = uow.get(HubCredential, hub_credential_id(token_hash))
    if credential is None:
        return None
    hub = uow.get(Hub, UUID(credential.hub_id))
    return hub if hub is not None and hub.accepts_token(token_hash) else None


def _require_room(hub: Hub) -> None:
    if len(hub.shockers) >= MAX_SHOCKERS_PER_HUB:
        raise TooManyShockers(
            f"You have reached the maximum number of shockers for this hub ({MAX_SHOCKERS_PER_HUB})"
        )


def _checked_shocker(command: RegisterShocker | EditShocker) -> tuple[str, int, str]:
    name = checked_name(command.name)
    rf_id = command.rf_id
    if isinstance(rf_id, bool) or not isinstance(rf_id, int) or not 0 <= rf_id <= MAX_RF_ID:
        raise invalid("rfId", f"must be 0..{MAX_RF_ID}")
    model = parse_enum(ShockerModel, command.model, "model")
    return name, rf_id, model.value


def _checked_token_hash(token_hash: str) -> str:
    if not token_hash or len(token_hash) > 200:
        raise DomainError("a hub token hash is 1 to 200 characters")
    return token_hash


def _checked_sealed_token(sealed_token: str) -> str:
    # A sealed 256-character token is about 400 characters of base64.
    if not sealed_token or len(sealed_token) > 1000:
        raise DomainError("a sealed hub token is 1 to 1000 characters")
    return sealed_token


HANDLERS = {
    CreateHub: create_hub,
    RenameHub: rename_hub,
    RegenerateHubToken: regenerate_hub_token,
    DeleteHub: delete_hub,
    IssuePairCode: issue_pair_code,
    RedeemPairCode: redeem_pair_code,
    RegisterShocker: register_shocker,
    EditShocker: edit_shocker,
    PauseShocker: pause_shocker,
    RemoveShocker: remove_shocker,
}
