# ---- the tests of the machine behind a recipe's [conditions] ----
# Each answers as systemd's Condition…= setting of the same name does, from
# what Linux shows in /proc and /sys; docs/recipes.md says where one guesses.

# ik_mount_of PATH: the mount point PATH lies under ($ik_mnt) and its mount
# options ($ik_mnt_opts), after links are followed (as systemd follows
# them), from /proc/self/mounts; 1 when PATH does not exist. A mount point
# whose name the kernel escapes (a space is \040) is not recognised.
# shellcheck disable=SC2034 # values for whichever function reads them; a script reads only some
ik_mount_of() {
    [ -e "$1" ] || return 1
    ik_p=$(readlink -f "$1" 2>/dev/null) || ik_p=$1
    ik_mnt='' ik_mnt_opts=''
    while read -r _ ik_m _ ik_o _; do
        case $ik_p/ in
            "${ik_m%/}"/*) ;;
            *) continue ;;
        esac
        # The longest mount point that holds it; of equals the last, mounted on top.
        [ "${#ik_m}" -ge "${#ik_mnt}" ] || continue
        ik_mnt=$ik_m ik_mnt_opts=$ik_o
    done </proc/self/mounts
    [ -n "$ik_mnt" ]
}

# ik_dir_not_empty PATH: PATH is a directory with an entry that is neither
# hidden nor a backup, as ConditionDirectoryNotEmpty= counts them (systemd's
# hidden_or_backup_file(): .*, *~, lost+found, aquota.user and .group, and
# package managers' leftovers such as *.dpkg-old). The scripts glob.
ik_dir_not_empty() {
    [ -d "$1" ] || return 1
    for ik_e in "$1"/*; do
        # No match leaves the pattern itself, which is no entry.
        [ -e "$ik_e" ] || [ -L "$ik_e" ] || continue
        case ${ik_e##*/} in
            *~ | lost+found | aquota.user | aquota.group) ;;
            *.ignore | *.rpmnew | *.rpmsave | *.rpmorig | *.swp | *.bak | *.old | *.new) ;;
            *.dpkg-old | *.dpkg-new | *.dpkg-tmp | *.dpkg-dist | *.dpkg-bak | *.dpkg-backup | *.dpkg-remove) ;;
            *.ucf-new | *.ucf-old | *.ucf-dist) ;;
            *) return 0 ;;
        esac
    done
    return 1
}

# ik_read_write PATH: PATH exists on a file system mounted read-write
# (ConditionPathIsReadWrite=).
ik_read_write() {
    ik_mount_of "$1" || return 1
    case ,$ik_mnt_opts, in *,ro,*) return 1 ;; esac
    return 0
}

# ik_mount_point PATH: PATH is a mount point (ConditionPathIsMountPoint=).
ik_mount_point() {
    ik_mount_of "$1" && [ "$ik_mnt" = "$ik_p" ]
}

# ik_cap BIT: the capability numbered BIT (capabilities(7)) is in the
# bounding set, the CapBnd mask of /proc/self/status, which every process
# inherits from init (ConditionCapability= asks systemd's own).
ik_cap() {
    while read -r ik_k ik_v; do
        [ "$ik_k" = CapBnd: ] || continue
        case $ik_v in ''|*[!0-9a-f]*) return 1 ;; esac
        # 16 hex digits; the last 12 hold every capability and fit sh's arithmetic.
        ik_v=${ik_v#????}
        [ $(( (0x$ik_v >> $1) & 1 )) -eq 1 ]
        return
    done </proc/self/status
    return 1
}

# ik_cmdline WORD: the kernel command line has WORD, or WORD=… when WORD has
# no `=` (ConditionKernelCommandLine=). In a container it is PID 1's command
# line, as systemd reads it. Words are split at blanks; quotes in the kernel
# command line are not undone.
ik_cmdline() {
    if ik_virt container; then
        ik_line=$(tr '\0\t\n' '   ' 2>/dev/null </proc/1/cmdline)
    else
        ik_line=$(tr '\t\n' '  ' 2>/dev/null </proc/cmdline)
    fi
    case $1 in
        *=*) case " $ik_line " in *" $1 "*) return 0 ;; esac ;;
        *) case " $ik_line " in *" $1 "* | *" $1="*) return 0 ;; esac ;;
    esac
    return 1
}

# ik_ac_power: a mains supply of /sys/class/power_supply is online, or there
# is none at all (ConditionACPower=true; supplies inside devices do not count).
ik_ac_power() {
    ik_mains=0
    for ik_ps in /sys/class/power_supply/*; do
        [ -r "$ik_ps/type" ] || continue
        [ "$(cat "$ik_ps/type" 2>/dev/null)" = Mains ] || continue
        [ "$(cat "$ik_ps/scope" 2>/dev/null)" = Device ] && continue
        ik_mains=1
        [ "$(cat "$ik_ps/online" 2>/dev/null)" = 1 ] && return 0
    done
    [ "$ik_mains" = 0 ]
}

# ik_virt WHAT: the machine is virtualized as WHAT says (yes, no, vm,
# container, private-users, or a technology as systemd-detect-virt --list
# names it), as ConditionVirtualization= asks: a container counts first, so
# `vm` is a virtual machine seen from outside any container. What runs is
# asked of systemd-detect-virt where it is installed; elsewhere ik_virt_guess
# guesses it.
ik_virt() {
    if command -v systemd-detect-virt >/dev/null 2>&1; then
        ik_container=$(systemd-detect-virt --container 2>/dev/null) || ik_container=none
        ik_vm=$(systemd-detect-virt --vm 2>/dev/null) || ik_vm=none
    else
        ik_virt_guess
    fi
    case $1 in
        yes) [ "$ik_container" != none ] || [ "$ik_vm" != none ] ;;
        no) [ "$ik_container" = none ] && [ "$ik_vm" = none ] ;;
        vm) [ "$ik_container" = none ] && [ "$ik_vm" != none ] ;;
        container) [ "$ik_container" != none ] ;;
        private-users)
            if command -v systemd-detect-virt >/dev/null 2>&1; then
                systemd-detect-virt -q --private-users
                return
            fi
            { read -r ik_a ik_b ik_c </proc/self/uid_map; } 2>/dev/null || return 1
            [ "$ik_a $ik_b $ik_c" != '0 0 4294967295' ]
            ;;
        *) if [ "$ik_container" != none ]; then [ "$ik_container" = "$1" ]; else [ "$ik_vm" = "$1" ]; fi ;;
    esac
}

# ik_virt_guess: without systemd-detect-virt, the container ($ik_container)
# and the hypervisor ($ik_vm) the machine runs in, each `none` when there is
# none. A container by what managers leave: /run/systemd/container,
# /run/host/container-manager, container= in PID 1's environment,
# /.dockerenv, /run/.containerenv, OpenVZ's /proc/vz, WSL's kernel name. A
# hypervisor by its DMI vendor strings, /proc/xen (not dom0), or else the
# CPU's hypervisor flag (vm-other). No CPUID leaf or device tree is read.
ik_virt_guess() {
    ik_container=none ik_vm=none
    for ik_f in /run/systemd/container /run/host/container-manager; do
        [ -s "$ik_f" ] || continue
        ik_container=$(cat "$ik_f" 2>/dev/null)
        [ -n "$ik_container" ] && break
        ik_container=none
    done
    if [ "$ik_container" = none ]; then
        ik_e=$(tr '\0' '\n' 2>/dev/null </proc/1/environ | sed -n 's/^container=//p')
        [ -n "$ik_e" ] && ik_container=$ik_e
    fi
    if [ "$ik_container" != none ]; then
        :
    elif [ -e /.dockerenv ]; then
        ik_container=docker
    elif [ -e /run/.containerenv ]; then
        ik_container=podman
    elif [ -d /proc/vz ] && [ ! -d /proc/bc ]; then
        ik_container=openvz
    elif grep -qi -e microsoft -e wsl /proc/sys/kernel/osrelease 2>/dev/null; then
        ik_container=wsl
    fi
    ik_d=/sys/class/dmi/id
    if [ "$(cat "$ik_d/sys_vendor" 2>/dev/null)/$(cat "$ik_d/product_name" 2>/dev/null)" = 'Microsoft Corporation/Virtual Machine' ]; then
        ik_vm=microsoft
        return 0
    fi
    for ik_f in product_name sys_vendor board_vendor bios_vendor product_version; do
        case $(cat "$ik_d/$ik_f" 2>/dev/null) in
            KVM* | OpenStack* | KubeVirt*) ik_vm=kvm ;;
            'Amazon EC2'*) ik_vm=amazon ;;
            QEMU*) ik_vm=qemu ;;
            VMware* | VMW*) ik_vm=vmware ;;
            'innotek GmbH'* | VirtualBox*) ik_vm=oracle ;;
            Xen*) ik_vm=xen ;;
            Bochs*) ik_vm=bochs ;;
            Parallels*) ik_vm=parallels ;;
            BHYVE*) ik_vm=bhyve ;;
            Hyper-V*) ik_vm=microsoft ;;
            'Apple Virtualization'*) ik_vm=apple ;;
            'Google Compute Engine'*) ik_vm=google ;;
            *) continue ;;
        esac
        return 0
    done
    if [ -d /proc/xen ] && ! grep -q control_d /proc/xen/capabilities 2>/dev/null; then
        ik_vm=xen
    elif grep -q '^flags.* hypervisor' /proc/cpuinfo 2>/dev/null; then
        ik_vm=vm-other
    fi
    return 0
}

# ik_security WHAT: the security framework or boot property WHAT is on, as
# ConditionSecurity= asks it (systemd's mac_selinux_use(), mac_apparmor_use(),
# mac_smack_use(), mac_tomoyo_use(), use_ima(), use_audit(),
# is_efi_secure_boot(), has_tpm2(), efi_measured_uki()), from the files the
# kernel and the firmware show. `audit` and `tpm2` are guesses, as
# docs/recipes.md says.
ik_security() {
    case $1 in
        selinux) [ -e /sys/fs/selinux/enforce ] ;;
        apparmor)
            ik_v=$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null) || return 1
            case $ik_v in Y | y | 1 | yes | true | on) return 0 ;; esac
            return 1
            ;;
        smack) [ -e /sys/fs/smackfs/ ] ;;
        tomoyo) [ -e /sys/kernel/security/tomoyo/version ] ;;
        ima) [ -e /sys/kernel/security/ima/ ] ;;
        # The kernel's audit is built in when a process has a login UID.
        audit) [ -e /proc/self/loginuid ] ;;
        # SecureBoot's one byte after the variable's four attribute bytes;
        # the firmware sets it only in user or deployed mode.
        uefi-secureboot)
            [ "$(od -An -tu1 -j4 -N1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c 2>/dev/null | tr -d ' ')" = 1 ]
            ;;
        tpm2) ik_tpm2_firmware && ik_dir_not_empty /sys/class/tpmrm ;;
        measured-uki)
            ik_tpm2_firmware && [ -e /sys/firmware/efi/efivars/StubPcrKernelImage-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f ]
            ;;
        *) return 1 ;;
    esac
}

# ik_tpm2_firmware: the firmware measured the boot into a TPM 2.0, by its
# event log or its ACPI table (systemd's efi_has_tpm2()).
ik_tpm2_firmware() {
    [ -e /sys/kernel/security/tpm0/binary_bios_measurements ] || [ -e /sys/firmware/acpi/tables/TPM2 ]
}
