# How the module takes in an operation's events: the interop reads item batches into typed
# objects (no ConvertFrom-Json per mailbox), folds them into the setup's rows, classifies events
# by their header, and progress is drawn at a limited rate.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-Module $ModuleManifest -Force

    # What a call into the interop threw (PowerShell wraps it in a MethodInvocationException).
    function Get-ParseError([scriptblock] $Call) {
        try { & $Call; $null } catch { $_.Exception.GetBaseException() }
    }

    # An items batch as the library sends it: the step once, each element an item without its type.
    $script:Batch = @'
{"version":1,"type":"items","step":"TestAndEnable","items":[
 {"key":"0A1B2C3D-0000-0000-0000-000000000001","name":"Avery Adams","email_address":"avery.adams@contoso.example","owner_type":"systemuser",
  "outcome":"Succeeded","changes":[{"field":"TestEmailConfigurationScheduled","from":false,"to":true}],"error":null,
  "incoming_email_status":"Success","outgoing_email_status":"Success","act_status":"Success","mailbox_status":"Success",
  "test_completed_on":"2026-01-02T03:04:05Z","alerts":[{"alert_id":"a1","level":"Information","text":"ok"}]},
 {"key":"0a1b2c3d-0000-0000-0000-000000000002","name":"Liam O'Brien","email_address":"liam.obrien@contoso.example","owner_type":"queue",
  "outcome":"Failed","changes":[],"error":{"status":"Service","http_status":400,"code":"0x80040220","message":"The test failed.  ","remedy":"Approve the email address.","hint":null,"retry_after_secs":null},
  "incoming_email_status":"Failure","outgoing_email_status":"Failure","act_status":"NotRun","mailbox_status":"Failure","test_completed_on":null,
  "alerts":[{"alert_id":"a2","level":"Error","code":-2147220975,"error_type":"IncomingEmailS2SApprovalNeeded","text":"Approve \"it\"\u00e9","created_on":"2026-01-02T03:04:05Z"},{"alert_id":"a3","level":"Information","text":"x"}],
  "future_field":{"nested":[1,2,{"a":null}]}},
 {"key":"0a1b2c3d-0000-0000-0000-000000000003","step":"MailboxSettings","name":null,"email_address":null,"owner_type":null,"outcome":"Changed",
  "changes":[{"field":"IncomingEmail","from":"None","to":"ServerSideSync"},{"field":"ServerProfile","from":null,"to":"Microsoft Exchange Online"},{"field":"Port","from":0,"to":""}],"error":null}
]}
'@
}

Describe 'The interop reads item batches into typed objects' {
    It 'reads every element of an items batch with its fields, the batch step and the element step' {
        $items = [CrmServerSideSync.SetupItem]::Parse($script:Batch)
        $items.Count | Should -Be 3
        $avery = $items[0]
        $avery.MailboxId | Should -Be '0A1B2C3D-0000-0000-0000-000000000001'
        $avery.Name | Should -Be 'Avery Adams'
        $avery.EmailAddress | Should -Be 'avery.adams@contoso.example'
        $avery.OwnerType | Should -Be 'systemuser'
        $avery.Step | Should -Be 'TestAndEnable'
        $avery.Outcome | Should -Be 'Succeeded'
        $avery.Changes | Should -Be 'TestEmailConfigurationScheduled: False -> True'
        $avery.Error | Should -BeNullOrEmpty
        $avery.ErrorJson | Should -BeNullOrEmpty
        $avery.MailboxStatus | Should -Be 'Success'
        $avery.TestCompletedOn | Should -Be ([DateTimeOffset]::Parse('2026-01-02T03:04:05Z', [cultureinfo]::InvariantCulture).LocalDateTime)
        $avery.AlertTotal | Should -Be 1
        $avery.AlertJson.Count | Should -Be 0 -Because 'an Information alert is not kept'

        $liam = $items[1]
        $liam.Name | Should -Be "Liam O'Brien"
        $liam.Outcome | Should -Be 'Failed'
        $liam.Error | Should -Be 'The test failed. Approve the email address.'
        ($liam.ErrorJson | ConvertFrom-Json).code | Should -Be '0x80040220'
        $liam.TestCompletedOn | Should -BeNullOrEmpty
        $liam.AlertTotal | Should -Be 2
        $liam.AlertJson.Count | Should -Be 1
        $alert = $liam.AlertJson[0] | ConvertFrom-Json
        $alert.error_type | Should -Be 'IncomingEmailS2SApprovalNeeded'
        $alert.text | Should -Be ('Approve "it"' + [char]0xE9)

        $third = $items[2]
        $third.Step | Should -Be 'MailboxSettings' -Because "an element's own step wins"
        $third.Name | Should -BeNullOrEmpty
        $third.Changes | Should -Be 'IncomingEmail: None -> ServerSideSync; ServerProfile: (none) -> Microsoft Exchange Online; Port: 0 -> (none)'
    }

    It 'reads a single item event as one item' {
        $one = @([CrmServerSideSync.SetupItem]::Parse('{"version":1,"type":"item","step":"ApproveEmail","key":"k1","outcome":"Unchanged","changes":[],"error":null,"approved_by_o365_admin":true}'))
        $one.Count | Should -Be 1
        $one[0].MailboxId | Should -Be 'k1'
        $one[0].Step | Should -Be 'ApproveEmail'
        $one[0].ApprovedByO365Admin | Should -BeTrue
        $one[0].Changes | Should -Be ''
    }

    It 'words a change as Format-CrmChange does for the other cmdlets' {
        $module = Get-Module CrmServerSideSync
        $changes = '[{"field":"IncomingEmail","from":"None","to":"ServerSideSync"},{"field":"ServerProfile","from":null,"to":"Microsoft Exchange Online"},{"field":"Flag","from":false,"to":true}]' | ConvertFrom-Json
        $text = & $module { param($c) Format-CrmChange -Change $c } $changes
        $typed = [CrmServerSideSync.SetupItem]::Parse('{"type":"item","key":"k","outcome":"Changed","changes":[{"field":"IncomingEmail","from":"None","to":"ServerSideSync"},{"field":"ServerProfile","from":null,"to":"Microsoft Exchange Online"},{"field":"Flag","from":false,"to":true}]}')
        $typed[0].Changes | Should -Be $text
        $text | Should -Be 'IncomingEmail: None -> ServerSideSync; ServerProfile: (none) -> Microsoft Exchange Online; Flag: False -> True'
    }

    It 'refuses malformed JSON and events that carry no items' {
        Get-ParseError { [CrmServerSideSync.SetupItem]::Parse('{"type":"items","items":[{"key":"k",}]}') } | Should -BeOfType ([System.FormatException])
        Get-ParseError { [CrmServerSideSync.SetupItem]::Parse('{"type":"items","items":[') } | Should -BeOfType ([System.FormatException])
        Get-ParseError { [CrmServerSideSync.SetupItem]::Parse('{"type":"item","name":"unterminated}') } | Should -BeOfType ([System.FormatException])
        Get-ParseError { [CrmServerSideSync.SetupItem]::Parse('{"type":"progress","done":1,"message":"m"}') } | Should -BeOfType ([System.FormatException])
        Get-ParseError { [CrmServerSideSync.SetupItem]::Parse('{"type":"item","key":"k"} trailing') } | Should -BeOfType ([System.FormatException])
        Get-ParseError { [CrmServerSideSync.SetupItem]::Parse($null) } | Should -BeOfType ([System.FormatException])
    }
}

Describe 'Folding typed items into setup rows' {
    It 'creates one row per mailbox, records each step and hands back only the items that need attention' {
        $rows = [CrmServerSideSync.SetupMailbox]::NewIndex()
        $settings = [CrmServerSideSync.SetupItem]::Parse('{"type":"items","step":"MailboxSettings","items":[{"key":"0a1b2c3d-0000-0000-0000-000000000001","name":"Avery Adams","email_address":"avery.adams@contoso.example","owner_type":"systemuser","outcome":"Changed","changes":[{"field":"IncomingEmail","from":"None","to":"ServerSideSync"}],"error":null}]}')
        $attention = [CrmServerSideSync.SetupMailbox]::Fold($rows, $settings, 'Contoso (https://contoso.crm.dynamics.com)')
        $attention.Count | Should -Be 0
        $tests = [CrmServerSideSync.SetupItem]::Parse($script:Batch)
        $attention = [CrmServerSideSync.SetupMailbox]::Fold($rows, $tests, $null)

        $rows.Count | Should -Be 3 -Because 'ids are compared without case'
        $avery = $rows['0a1b2c3d-0000-0000-0000-000000000001']
        $avery.MailboxSettings | Should -Be 'Changed'
        $avery.TestAndEnable | Should -Be 'Succeeded'
        $avery.ApproveEmail | Should -Be 'NotRun'
        $avery.Changes | Should -Be 'IncomingEmail: None -> ServerSideSync; TestEmailConfigurationScheduled: False -> True'
        $avery.MailboxStatus | Should -Be 'Success'
        $avery.Environment | Should -Be 'Contoso (https://contoso.crm.dynamics.com)'
        $avery.AlertCount | Should -Be 0

        $attention.Count | Should -Be 1
        $attention[0].MailboxId | Should -Be '0a1b2c3d-0000-0000-0000-000000000002'
        $attention[0].Row | Should -Be $rows['0a1b2c3d-0000-0000-0000-000000000002']
        $attention[0].Row.Error | Should -Be 'TestAndEnable: The test failed. Approve the email address.'
        $attention[0].Row.OwnerType | Should -Be 'queue'
        $rows['0a1b2c3d-0000-0000-0000-000000000003'].MailboxSettings | Should -Be 'Changed'
    }
}

Describe 'Receive-CrmOperationEvent' {
    BeforeAll {
        # A stand-in for a native operation handle that hands out the given event documents.
        function New-FakeOperation([string[]] $Events) {
            $queue = New-Object 'System.Collections.Generic.Queue[string]'
            foreach ($e in $Events) { $queue.Enqueue($e) }
            $op = [pscustomobject]@{ Queue = $queue }
            $op | Add-Member -MemberType ScriptMethod -Name NextEvent -Value {
                param($waitMs, $json)
                if ($this.Queue.Count -eq 0) { return [CrmSync.Interop.CrmSyncStatus]::EndOfEvents }
                $json.Value = $this.Queue.Dequeue()
                [CrmSync.Interop.CrmSyncStatus]::Ok
            }
            $op
        }
        $script:Module = Get-Module CrmServerSideSync
    }

    It 'hands a batch on as one typed object with -TypedItems' {
        $op = New-FakeOperation @($script:Batch)
        $out = @(& $script:Module { param($op) $s = $null; Receive-CrmOperationEvent -Operation $op -WaitMilliseconds 10 -Status ([ref]$s) -TypedItems } $op)
        $out.Count | Should -Be 1
        $out[0].type | Should -Be 'items'
        $out[0].step | Should -Be 'TestAndEnable'
        $out[0].Items.Count | Should -Be 3
        $out[0].Items[0] | Should -BeOfType ([CrmServerSideSync.SetupItem])
    }

    It 'hands each item of a batch on as its own item event otherwise, with its type and step' {
        $op = New-FakeOperation @($script:Batch)
        $out = @(& $script:Module { param($op) $s = $null; Receive-CrmOperationEvent -Operation $op -WaitMilliseconds 10 -Status ([ref]$s) } $op)
        $out.Count | Should -Be 3
        @($out | ForEach-Object { $_.type } | Select-Object -Unique) | Should -Be @('item')
        @($out | ForEach-Object { $_.step }) | Should -Be @('TestAndEnable', 'TestAndEnable', 'MailboxSettings')
        $out[1].error.code | Should -Be '0x80040220'
        $out[0].key | Should -Be '0A1B2C3D-0000-0000-0000-000000000001'
    }

    It "leaves a listing's page (items with a page) and other events as documents" {
        $op = New-FakeOperation @('{"version":1,"type":"items","page":1,"items":[{"mailbox_id":"m1"},{"mailbox_id":"m2"}]}', '{"version":1,"type":"check","check":"C","status":"Pass","message":"m","remedy":null}')
        $page = @(& $script:Module { param($op) $s = $null; Receive-CrmOperationEvent -Operation $op -WaitMilliseconds 10 -Status ([ref]$s) -TypedItems } $op)
        $page.Count | Should -Be 1
        $page[0].page | Should -Be 1
        @($page[0].items).Count | Should -Be 2
        $check = @(& $script:Module { param($op) $s = $null; Receive-CrmOperationEvent -Operation $op -WaitMilliseconds 10 -Status ([ref]$s) -TypedItems } $op)
        $check[0].type | Should -Be 'check'
    }

    It 'reads a progress header without converting the event' {
        $header = [CrmSync.Interop.EventHeader]::Read('{"version":1,"type":"progress","done":30,"total":120,"message":"30 of 120 written","step":"MailboxSettings"}')
        $header.Type | Should -Be 'progress'
        $header.Done | Should -Be 30
        $header.Total | Should -Be 120
        $header.Message | Should -Be '30 of 120 written'
        $header.Step | Should -Be 'MailboxSettings'
        $header.IsItemBatch | Should -BeFalse
        ([CrmSync.Interop.EventHeader]::Read('{"type":"progress","done":3,"message":"Read 3"}')).Total | Should -BeNullOrEmpty
        Get-ParseError { [CrmSync.Interop.EventHeader]::Read('{"type":') } | Should -BeOfType ([System.FormatException])
    }
}

Describe 'Progress is drawn at a limited rate' {
    It 'draws far fewer records than progress events, and always the final 100 % one' {
        $drawn = New-Object 'System.Collections.Generic.List[object]'
        Mock Write-Progress -ModuleName CrmServerSideSync { $drawn.Add([pscustomobject]@{ Percent = $PercentComplete; Status = $Status }) }
        $total = 3000
        InModuleScope CrmServerSideSync -Parameters @{ Total = $total } {
            param($Total)
            for ($done = 1; $done -le $Total; $done++) {
                $header = [CrmSync.Interop.EventHeader]::Read('{"type":"progress","done":' + $done + ',"total":' + $Total + ',"message":"' + $done + ' written","step":"MailboxSettings"}')
                Write-CrmOperationProgress -Header $header -Activity 'Setup' -ProgressId 97
            }
        }
        $drawn.Count | Should -BeGreaterOrEqual 2 -Because 'the first and the final record are drawn'
        $drawn.Count | Should -BeLessThan 300 -Because '3,000 events in a tight loop take a few seconds at most, and a record is drawn at most every 250 ms'
        $drawn[$drawn.Count - 1].Percent | Should -Be 100
        $drawn[$drawn.Count - 1].Status | Should -Be 'MailboxSettings: 3000 written'
        @($drawn | Where-Object { $_.Percent -eq 100 }).Count | Should -Be 1
    }
}
