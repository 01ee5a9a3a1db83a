import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from src.api.deps import CurrentUser, SessionDep, SuperUser
from src.api.responses import error_responses
from src.schemas.common import Page
from src.schemas.user import UserCreate, UserRead, UserUpdate
from src.services.user import UserService

router = APIRouter(prefix="/users", tags=["users"], responses=error_responses(422, 503))


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(400, 409))
async def register(data: UserCreate, session: SessionDep) -> UserRead:
    user = await UserService(session).register(data)
    return UserRead.model_validate(user)


@router.get("/me", responses=error_responses(401))
async def read_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@router.patch("/me", responses=error_responses(400, 401, 409))
async def update_me(data: UserUpdate, user: CurrentUser, session: SessionDep) -> UserRead:
    updated = await UserService(session).update(user, data)
    return UserRead.model_validate(updated)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401))
async def delete_me(user: CurrentUser, session: SessionDep) -> None:
    await UserService(session).delete(user)


@router.get("", responses=error_responses(401, 403))
async def list_users(
    _: SuperUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Page[UserRead]:
    users, total = await UserService(session).page(limit=limit, offset=offset)
    return Page[UserRead](
        items=[UserRead.model_validate(user) for user in users],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{user_id}", responses=error_responses(401, 403, 404))
async def read_user(user_id: uuid.UUID, _: SuperUser, session: SessionDep) -> UserRead:
    user = await UserService(session).get(user_id)
    return UserRead.model_validate(user)
