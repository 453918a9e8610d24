# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # What most virtlab modules support, on top of ansible.builtin.action_common_attributes (which describes
    # each attribute): full check mode and diff, on a POSIX host.
    DOCUMENTATION = r"""
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
"""
