# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Options shared by every virtlab VirtualBox module.
    DOCUMENTATION = r"""
options:
  vboxmanage_path:
    description:
      - Path of the C(VBoxManage) executable.
      - When not set, C(VBoxManage) is looked up on E(PATH), then C(VBoxManage.exe) (VirtualBox installed on
        Windows and driven from WSL), then VirtualBox's default install folder on Windows as seen from WSL.
    type: path
  retries:
    description:
      - How many times a call is retried when VirtualBox answers that the machine "is already locked for a
        session (or being unlocked)", which happens for a moment after a VM stops or while another tool holds it.
      - VirtualBox refuses the lock before changing anything, so a retry is safe.
    type: int
    default: 3
  retry_delay:
    description: Seconds to wait before each retry.
    type: float
    default: 1.0
requirements:
  - VirtualBox (C(VBoxManage)) on the host that runs the module, usually the controller (C(delegate_to) or
    C(connection=local)).
notes:
  - "The modules run C(VBoxManage) with E(LC_ALL=C), and treat an error line on stderr (C(VBoxManage: error: ...))
    as a failure even when the exit code is 0. A missing machine (VirtualBox's VBOX_E_OBJECT_NOT_FOUND) means
    absent."
"""
