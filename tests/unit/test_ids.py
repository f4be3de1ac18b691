import os
import uuid

from service.ids import new_id


def test_ids_are_version_4_uuids_in_hex() -> None:
    ids = [new_id() for _ in range(1000)]
    parsed = [uuid.UUID(hex=i) for i in ids]
    assert {p.version for p in parsed} == {4}
    assert {p.variant for p in parsed} == {uuid.RFC_4122}
    assert [p.hex for p in parsed] == ids


def test_ids_do_not_repeat_across_many_reads_of_randomness() -> None:
    ids = [new_id() for _ in range(20_000)]  # about 80 reads of os.urandom
    assert len(set(ids)) == len(ids)


def test_a_forked_child_does_not_hand_out_its_parents_next_ids() -> None:
    new_id()  # the parent holds unused random bytes now
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id and leave at once
        os.write(write_end, new_id().encode())
        os._exit(0)
    os.close(write_end)
    child_id = os.read(read_end, 64).decode()
    os.close(read_end)
    os.waitpid(pid, 0)
    assert child_id != new_id()
