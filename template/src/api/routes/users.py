import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, status

from src.api.deps import (
    ClientAddress,
    CurrentUser,
    CurrentUserOutsideTransaction,
    SessionDep,
    SettingsDep,
    SuperUser,
    TransactionsDep,
)
from src.api.responses import error_responses
from src.schemas.account import AccountDeletion, EmailChange, PasswordChange
from src.schemas.common import Page
from src.schemas.user import USER_READ_LIST, UserCreate, UserRead, UserUpdate
from src.services.account import AccountService
from src.services.user import UserService

router = APIRouter(prefix="/users", tags=["users"], responses=error_responses(422, 503))


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(400, 409, 429))
async def register(
    data: UserCreate, transactions: TransactionsDep, settings: SettingsDep, client: ClientAddress
) -> UserRead:
    user = await AccountService(transactions, settings, client=client).register(data)
    return UserRead.model_validate(user)


@router.get("/me", responses=error_responses(401))
async def read_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@router.patch("/me", responses=error_responses(400, 401))
async def update_me(data: UserUpdate, user: CurrentUser, session: SessionDep) -> UserRead:
    """Change the profile. The email and the password have endpoints of their own."""
    updated = await UserService(session).update(user, data)
    return UserRead.model_validate(updated)


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(400, 401, 403, 429),
)
async def change_password(
    data: PasswordChange,
    user: CurrentUserOutsideTransaction,
    transactions: TransactionsDep,
    settings: SettingsDep,
    client: ClientAddress,
) -> None:
    """Set a new password. Needs the current one (403 when wrong, counted as a failed
    login); every session ends, this one included, so log in again."""
    await AccountService(transactions, settings, client=client).change_password(
        user, data.current_password, data.new_password
    )


@router.post("/me/email", responses=error_responses(400, 401, 403, 409, 429))
async def change_email(
    data: EmailChange,
    user: CurrentUserOutsideTransaction,
    transactions: TransactionsDep,
    settings: SettingsDep,
    client: ClientAddress,
) -> UserRead:
    """Change the email address. Needs the current password (403 when wrong)."""
    updated = await AccountService(transactions, settings, client=client).change_email(
        user, data.current_password, data.email
    )
    return UserRead.model_validate(updated)


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(400, 401, 403, 409, 429),
)
async def delete_me(
    data: Annotated[AccountDeletion, Body()],
    user: CurrentUserOutsideTransaction,
    transactions: TransactionsDep,
    settings: SettingsDep,
    client: ClientAddress,
) -> None:
    """Delete the account. Needs the current password in the body (403 when wrong); the
    last active superuser cannot be deleted (409)."""
    await AccountService(transactions, settings, client=client).delete(user, data.current_password)


@router.get("", responses=error_responses(401, 403))
async def list_users(
    _: SuperUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Page[UserRead]:
    rows, total = await UserService(session).public_page(limit=limit, offset=offset)
    return Page[UserRead](
        items=USER_READ_LIST.validate_python(rows, from_attributes=True),
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{user_id}", responses=error_responses(401, 403, 404))
async def read_user(user_id: uuid.UUID, _: SuperUser, session: SessionDep) -> UserRead:
    user = await UserService(session).get(user_id)
    return UserRead.model_validate(user)
